# Thin wrapper over CMake. The two commands a user needs:
#   make test    install missing tools, build, run the whole suite
#   make bench   build and run the benchmarks against libuv, libev,
#                libevent, OpenSSL, nginx and Node
# (make bench-scaling: cost per timer and per idle connection as N grows)
.PHONY: all test asan tsan fuzz bench bench-scaling deps doc install clean

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
	@scripts/bench.sh

bench-scaling:
	@scripts/bench.sh scaling

deps:
	scripts/deps.sh

# make doc: the API reference, one Markdown page per public header made from
# its comments, in build/apidoc/ (start at index.md). Needs only perl; the
# api_docs test fails when a public function has no comment.
doc:
	perl scripts/apidoc.pl $(BUILD_DIR)/apidoc include/eddy

# make install [PREFIX=/usr/local] [DESTDIR=/staging] [BUILD_DIR=build]
#              [CMAKE_FLAGS="-DCMAKE_INSTALL_LIBDIR=lib/x86_64-linux-gnu"]
# builds only the two libraries and installs them, the headers, the
# pkg-config files and the CMake package under DESTDIR/PREFIX (no test,
# example or bench program). Needs cmake and a C compiler, not cmocka.
PREFIX ?= /usr/local
BUILD_DIR ?= build
CMAKE_FLAGS ?=
export DESTDIR

install:
	scripts/deps.sh build
	cmake -S . -B "$(BUILD_DIR)" -DCMAKE_INSTALL_PREFIX="$(PREFIX)" \
	  $(CMAKE_FLAGS) >/dev/null
	cmake --build "$(BUILD_DIR)" -j2 --target eddy_shared eddy_static
	cmake --install "$(BUILD_DIR)" --prefix "$(PREFIX)"

clean:
	rm -rf build build-* 
