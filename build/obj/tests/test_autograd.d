build/obj/tests/test_autograd.o: tests/test_autograd.cpp \
 autograd/grad_mode.h autograd/gradcheck.h tensor/tensor.h \
 tensor/device.h tensor/dtype.h tensor/error.h tensor/random.h \
 tensor/storage.h autograd/node.h autograd/shape_ops.h
autograd/grad_mode.h:
autograd/gradcheck.h:
tensor/tensor.h:
tensor/device.h:
tensor/dtype.h:
tensor/error.h:
tensor/random.h:
tensor/storage.h:
autograd/node.h:
autograd/shape_ops.h:
