build/obj/kernels/cpu/copy.o: kernels/cpu/copy.cpp kernels/copy.h \
 tensor/dtype.h tensor/error.h
kernels/copy.h:
tensor/dtype.h:
tensor/error.h:
