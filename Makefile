# Thin wrapper over CMake. The two commands a user needs:
#   make test    install missing tools, build, run the whole suite
#   make bench   build and run the benchmarks against libuv, libev,
#                libevent, OpenSSL, nginx and Node
# (make bench-scaling: cost per timer and per idle connection as N grows)
.PHONY: all test asan tsan fuzz bench bench-scaling deps install clean

all:
	scripts/test.sh build

test:
	scripts/test.sh

asan:
	EDDY_SANITIZE=address,undefined scripts/test.sh

tsan:
	EDDY_SANITIZE=thread scripts/test.sh

fuzz:
	scripts/fuzz.sh

bench:
	scripts/bench.sh

bench-scaling:
	scripts/bench.sh scaling

deps:
	scripts/deps.sh

install:
	scripts/deps.sh && cmake -S . -B build && cmake --build build -j2 && \
	cmake --install build

clean:
	rm -rf build build-* 
