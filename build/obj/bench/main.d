build/obj/bench/main.o: bench/main.cpp
