build/obj/autograd/shape_ops.o: autograd/shape_ops.cpp \
 autograd/shape_ops.h tensor/tensor.h tensor/device.h tensor/dtype.h \
 tensor/error.h tensor/random.h tensor/storage.h autograd/grad_mode.h \
 autograd/node.h
autograd/shape_ops.h:
tensor/tensor.h:
tensor/device.h:
tensor/dtype.h:
tensor/error.h:
tensor/random.h:
tensor/storage.h:
autograd/grad_mode.h:
autograd/node.h:
