build/obj/autograd/gradcheck.o: autograd/gradcheck.cpp \
 autograd/gradcheck.h tensor/tensor.h tensor/device.h tensor/dtype.h \
 tensor/error.h tensor/random.h tensor/storage.h autograd/grad_mode.h
autograd/gradcheck.h:
tensor/tensor.h:
tensor/device.h:
tensor/dtype.h:
tensor/error.h:
tensor/random.h:
tensor/storage.h:
autograd/grad_mode.h:
