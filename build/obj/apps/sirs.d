build/obj/apps/sirs.o: apps/sirs.cpp tensor/device.h tensor/storage.h
tensor/device.h:
tensor/storage.h:
