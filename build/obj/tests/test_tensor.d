build/obj/tests/test_tensor.o: tests/test_tensor.cpp tensor/tensor.h \
 tensor/device.h tensor/dtype.h tensor/error.h tensor/random.h \
 tensor/storage.h
tensor/tensor.h:
tensor/device.h:
tensor/dtype.h:
tensor/error.h:
tensor/random.h:
tensor/storage.h:
