# sirs — build, test, bench. `make help` lists the targets.
#
# CUDA sources are compiled whenever nvcc is found (it is on these machines
# even without a GPU); the CUDA tests skip at run time when no GPU is usable.

CXX       ?= g++
NVCC      ?= $(shell command -v nvcc 2>/dev/null || (test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc))
CUDA_HOME ?= $(if $(NVCC),$(patsubst %/bin/,%,$(dir $(realpath $(NVCC)))),)
CUDA_ARCH ?= 90
DEBUG     ?= 0
WERROR    ?= 0
BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
ARCH_FLAGS ?= -march=native

# Debian packages the project needs; `make deps` installs the missing ones
# and every build target runs it first when something is missing.
DEB_PACKAGES := g++ make pkg-config libopenblas-dev libopenblas-pthread-dev libopenblas-openmp-dev libgtest-dev libgmock-dev \
  libbenchmark-dev libtiff-dev libstb-dev libyaml-cpp-dev nlohmann-json3-dev zlib1g-dev
# DEPS_ROOT=DIR builds against those packages unpacked under DIR instead
# (dpkg -x, no root, no network: the GPU machine, scripts/gpu-check.sh);
# nothing is installed then.
DEPS_ROOT ?=
ifeq ($(DEPS_ROOT),)
DEPS_MISSING := $(shell for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done)
else
DEPS_MISSING :=
endif

# OpenBLAS build, linked by path with an rpath so the Debian alternatives
# (update-alternatives libopenblas.so.0 / libblas.so.3) do not decide:
# pthread (default, Debian libopenblas0-pthread) or openmp (libopenblas0-openmp:
# GEMMs on the same libgomp thread team as our OpenMP regions; only wins with
# OMP_WAIT_POLICY=passive on a loaded machine, docs/PERF.md "conv2d on CPU").
# Switching needs a relink: rm build/sirs*; make OPENBLAS_VARIANT=openmp ...
OPENBLAS_VARIANT ?= pthread
MULTIARCH := $(shell $(CXX) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
OPENBLAS_DIR := $(DEPS_ROOT)/usr/lib/$(MULTIARCH)/openblas-$(OPENBLAS_VARIANT)
OPENBLAS_LIB := $(OPENBLAS_DIR)/libopenblas.so -Wl,-rpath,$(OPENBLAS_DIR)

OPT := $(if $(filter 1,$(DEBUG)),-O0 -g,-O3 $(ARCH_FLAGS))
WARN := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror,)
CPPFLAGS += -I. -I$(DEPS_ROOT)/usr/include/stb -I$(DEPS_ROOT)/usr/include/$(MULTIARCH)/openblas-$(OPENBLAS_VARIANT) -MMD -MP
ifneq ($(DEPS_ROOT),)
  CPPFLAGS += -I$(DEPS_ROOT)/usr/include -I$(DEPS_ROOT)/usr/include/$(MULTIARCH)
  LDLIBS   += -L$(DEPS_ROOT)/usr/lib/$(MULTIARCH) -Wl,-rpath,$(DEPS_ROOT)/usr/lib/$(MULTIARCH) \
              -L$(DEPS_ROOT)/lib/$(MULTIARCH) -Wl,-rpath,$(DEPS_ROOT)/lib/$(MULTIARCH)
endif
SAN      ?=
CXXFLAGS += -std=c++17 $(OPT) $(WARN) -fopenmp -pthread $(SAN)
LDLIBS   += -lz -ltiff -lstb $(OPENBLAS_LIB) -fopenmp -pthread $(SAN)
LDLIBS   += -lyaml-cpp

# Real dataset samples the data tests and benches read (they skip when the
# folder is missing); the environment variable of the same name overrides it
# at run time.
SIRS_SAMPLES_DIR ?= $(CURDIR)/../shared/samples
$(BUILD)/obj/tests/%.o: CPPFLAGS += -DSIRS_SAMPLES_DIR='"$(SIRS_SAMPLES_DIR)"' -DSIRS_SOURCE_DIR='"$(CURDIR)"' -DSIRS_BUILD_DIR='"$(CURDIR)/$(BUILD)"'
$(BUILD)/obj/bench/%.o: CPPFLAGS += -DSIRS_SAMPLES_DIR='"$(SIRS_SAMPLES_DIR)"'

LIB_SRCS  := $(wildcard tensor/*.cpp autograd/*.cpp kernels/cpu/*.cpp layers/*.cpp models/*.cpp data/*.cpp)
CUDA_SRCS := $(wildcard kernels/cuda/*.cu)
APP_SRCS  := $(wildcard apps/*.cpp)
TEST_SRCS := $(wildcard tests/*.cpp)
BENCH_SRCS := $(wildcard bench/*.cpp)

ifneq ($(NVCC),)
  WITH_CUDA := 1
  CPPFLAGS += -DSIRS_WITH_CUDA -I$(CUDA_HOME)/include
  # cuDNN: in the toolkit's folders here; CUDNN_HOME points elsewhere (a
  # pip nvidia-cudnn wheel on a GPU machine, say).
  CUDNN_HOME ?= $(CUDA_HOME)
  ifneq ($(CUDNN_HOME),$(CUDA_HOME))
    CUDNN_INC := -I$(CUDNN_HOME)/include
    CUDNN_LIB := -L$(CUDNN_HOME)/lib -Wl,-rpath,$(CUDNN_HOME)/lib
  endif
  CPPFLAGS += $(CUDNN_INC)
  LDLIBS   += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 $(CUDNN_LIB) -lcudnn -lcublas -lcudart
  NVCCFLAGS ?= -std=c++17 -O3 -I. $(CUDNN_INC) -MMD -MP -DSIRS_WITH_CUDA \
    -gencode arch=compute_$(CUDA_ARCH),code=[sm_$(CUDA_ARCH),compute_$(CUDA_ARCH)] \
    -Xcompiler "-Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror,)" --Werror all-warnings
  CUDA_OBJS := $(CUDA_SRCS:%.cu=$(BUILD)/obj/%.cu.o)
else
  WITH_CUDA := 0
  CUDA_OBJS :=
endif

LIB_OBJS   := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o) $(CUDA_OBJS)
APP_OBJS   := $(APP_SRCS:%.cpp=$(BUILD)/obj/%.o)
# apps/ helpers (not the main or the subcommands) are linked into the tests too.
APP_LIB_OBJS := $(filter-out $(BUILD)/obj/apps/sirs.o $(BUILD)/obj/apps/cmd_%.o,$(APP_OBJS))
TEST_OBJS  := $(TEST_SRCS:%.cpp=$(BUILD)/obj/%.o)
BENCH_OBJS := $(BENCH_SRCS:%.cpp=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libsirs.a

$(info sirs: CXX=$(CXX) CUDA=$(if $(filter 1,$(WITH_CUDA)),$(NVCC) (sm_$(CUDA_ARCH)),none) BUILD=$(BUILD)$(if $(DEPS_MISSING), missing-packages=[$(DEPS_MISSING)],))

.PHONY: all test bench asan format clean deps help golden demo
.DEFAULT_GOAL := all

# Make every object wait for the packages when some are missing.
DEPS_STAMP := $(if $(DEPS_MISSING),deps,)

all: $(BUILD)/sirs $(BUILD)/sirs_tests $(BUILD)/sirs_bench

help:
	@echo "make            build libsirs.a, build/sirs, build/sirs_tests, build/sirs_bench"
	@echo "make test       build and run every test (GTEST_FILTER=Suite.* to pick)"
	@echo "make demo       synthetic data, train on CPU, test, infer: prints where report.html is"
	@echo "make bench      build and run the benchmarks (BENCH_FILTER=regex to pick)"
	@echo "make asan       CPU tests under AddressSanitizer + UBSan (build-asan/)"
	@echo "make deps       install the Debian packages the project needs"
	@echo "make golden     regenerate tests/golden/* and tests/fixtures/* with PyTorch (python3-torch)"
	@echo "make format     clang-format every source"
	@echo "make clean      remove build outputs"
	@echo "variables: CXX NVCC CUDA_HOME CUDA_ARCH=$(CUDA_ARCH) DEBUG=1 WERROR=1 BUILD=dir"

deps:
	@if [ -n "$(DEPS_MISSING)" ]; then \
	  echo "sirs: installing Debian packages: $(DEPS_MISSING)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEPS_MISSING); \
	else echo "sirs: all Debian packages present"; fi

$(BUILD)/obj/%.o: %.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(BUILD)/obj/%.cu.o: %.cu | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sirs: $(APP_OBJS) $(LIB)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/sirs_tests: $(TEST_OBJS) $(APP_LIB_OBJS) $(LIB) | $(BUILD)/sirs
	$(CXX) $(CXXFLAGS) $(TEST_OBJS) $(APP_LIB_OBJS) $(LIB) -o $@ -lgtest $(LDLIBS)

$(BUILD)/sirs_bench: $(BENCH_OBJS) $(LIB)
	$(CXX) $(CXXFLAGS) $^ -o $@ -lbenchmark $(LDLIBS)

test: $(BUILD)/sirs_tests
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-$(JOBS)} ./$(BUILD)/sirs_tests $(if $(GTEST_FILTER),--gtest_filter='$(GTEST_FILTER)',)

bench: $(BUILD)/sirs_bench
	./$(BUILD)/sirs_bench $(if $(BENCH_FILTER),--benchmark_filter='$(BENCH_FILTER)',)

# The demo: from a fresh clone (missing packages are installed by the build
# rules), synthetic data (sirs synth), training on the CPU with the progress
# bar (sirs train), evaluation on the test split (sirs test) and the visual
# report (sirs infer). DEMO_IMAGES / DEMO_SET change its size, e.g.
#   make demo DEMO_IMAGES=300 DEMO_SET="--set optim.epochs=4"
DEMO_DIR    ?= demo
DEMO_IMAGES ?= 400
DEMO_SET    ?= --set optim.epochs=3
DEMO_CKPT   := $(DEMO_DIR)/runs/synthetic/fold0/best.safetensors
demo: $(BUILD)/sirs
	./$(BUILD)/sirs synth --out $(DEMO_DIR)/data --images $(DEMO_IMAGES) --seed 1
	./$(BUILD)/sirs train --config $(DEMO_DIR)/data/sirs.yaml --set runtime.device=cpu \
	  --set logs.ckpt_save_path=$(CURDIR)/$(DEMO_DIR)/runs --set k_fold.experiment_name=synthetic $(DEMO_SET)
	./$(BUILD)/sirs test --config $(DEMO_DIR)/data/sirs.yaml --weights $(DEMO_CKPT) --split test \
	  --json $(DEMO_DIR)/test.json
	./$(BUILD)/sirs infer --config $(DEMO_DIR)/data/sirs.yaml --weights $(DEMO_CKPT) --split test \
	  --out $(DEMO_DIR)/infer
	@echo "sirs demo: metrics in $(CURDIR)/$(DEMO_DIR)/test.json; open $(CURDIR)/$(DEMO_DIR)/infer/report.html"

# Sanitizers on the CPU path: its own build folder, no CUDA.
asan:
	$(MAKE) BUILD=build-asan NVCC= DEBUG=1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  build-asan/sirs build-asan/sirs_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 OMP_NUM_THREADS=2 \
	  ./build-asan/sirs_tests $(if $(GTEST_FILTER),--gtest_filter='$(GTEST_FILTER)',)

golden:
	@python3 -c "import torch" 2>/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy)
	/usr/bin/python3 scripts/gen_golden.py tests/golden
	/usr/bin/python3 scripts/gen_golden_gru.py tests/golden
	/usr/bin/python3 scripts/gen_golden_resnet.py tests/golden
	/usr/bin/python3 scripts/gen_golden_sirs.py tests/golden/sirs_step.safetensors
	/usr/bin/python3 scripts/gen_golden_train.py tests/fixtures/train_repro tests/golden/train_repro.safetensors
	/usr/bin/python3 scripts/gen_import_fixtures.py tests/fixtures

format:
	clang-format -i $(LIB_SRCS) $(APP_SRCS) $(TEST_SRCS) $(BENCH_SRCS) $(CUDA_SRCS) \
	  $(wildcard */*.h kernels/*/*.h)

clean:
	rm -rf $(BUILD) build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
