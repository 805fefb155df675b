build/obj/autograd/engine.o: autograd/engine.cpp autograd/grad_mode.h \
 autograd/node.h tensor/tensor.h tensor/device.h tensor/dtype.h \
 tensor/error.h tensor/random.h tensor/storage.h
autograd/grad_mode.h:
autograd/node.h:
tensor/tensor.h:
tensor/device.h:
tensor/dtype.h:
tensor/error.h:
tensor/random.h:
tensor/storage.h:
