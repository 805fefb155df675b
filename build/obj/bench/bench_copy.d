build/obj/bench/bench_copy.o: bench/bench_copy.cpp tensor/tensor.h \
 tensor/device.h tensor/dtype.h tensor/error.h tensor/random.h \
 tensor/storage.h
tensor/tensor.h:
tensor/device.h:
tensor/dtype.h:
tensor/error.h:
tensor/random.h:
tensor/storage.h:
