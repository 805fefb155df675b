build/obj/tensor/storage.o: tensor/storage.cpp tensor/storage.h \
 tensor/device.h tensor/cuda_allocator.h tensor/error.h
tensor/storage.h:
tensor/device.h:
tensor/cuda_allocator.h:
tensor/error.h:
