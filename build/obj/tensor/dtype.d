build/obj/tensor/dtype.o: tensor/dtype.cpp tensor/dtype.h tensor/error.h
tensor/dtype.h:
tensor/error.h:
