build/obj/tests/main.o: tests/main.cpp tensor/device.h
tensor/device.h:
