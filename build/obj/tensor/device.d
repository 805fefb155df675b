build/obj/tensor/device.o: tensor/device.cpp tensor/device.h \
 tensor/error.h
tensor/device.h:
tensor/error.h:
