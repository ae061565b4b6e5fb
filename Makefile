# Every target installs missing Debian packages first, so a fresh machine needs only `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-full-size examples reproduce bench bench-vs-pytorch test-asan fuzz fixtures \
        test-browser \
        function-lengths format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && OPENBLAS_NUM_THREADS=1 ctest --output-on-failure -j$(JOBS)

# The 124 M run of make test on its own, with its peak memory and time per step printed.
test-full-size: build
	OPENBLAS_NUM_THREADS=1 ./$(BUILD_DIR)/lorasum_tests "[full-size]"

# The programs of experiments/examples/, each run once (no arguments, a few seconds each).
examples: build
	@for e in $(BUILD_DIR)/examples/*; do echo "== $$e"; $$e || exit 1; done

reproduce: build
	./$(BUILD_DIR)/lorasum reproduce

# Every figure in f32, then the training and eval figures in bf16.
bench: build
	./$(BUILD_DIR)/lorasum bench
	./$(BUILD_DIR)/lorasum bench --precision bf16 --only lora_train_step,eval_forward,full_train_step

# The same figures next to PyTorch's (needs python3-torch and ../shared/bench).
bench-vs-pytorch: build
	LORASUM=$(CURDIR)/$(BUILD_DIR)/lorasum bash scripts/bench-vs-pytorch.sh

# Each fuzz target runs FUZZ_SECONDS, one after another (tests/fuzz/run.sh).
FUZZ_SECONDS ?= 60
FUZZ_READERS := safetensors configs bpe_files tokenizer data

fuzz: deps
	@bash scripts/install-fuzz-deps.sh
	CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLORASUM_FUZZ=ON
	cmake --build build-fuzz -j$(JOBS) --target $(addprefix fuzz_,$(FUZZ_READERS))
	bash tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_READERS)

test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLORASUM_SANITIZE=ON
	cmake --build build-asan -j$(JOBS)
	# Without MPI runs (see tests/cli_runner.h), and without the 124 M run: make test runs it;
	# instrumented it is slow, and its peak-memory check would measure ASan's shadow memory.
	cd build-asan && LORASUM_TEST_NO_MPI=1 ctest --output-on-failure -j$(JOBS) -E '124 M checkpoint'

# Rewrites every C++ source in the style of .clang-format (make test checks it).
format: deps
	bash scripts/format.sh --fix

# Lists the functions outside tests/ over 60 lines and fails if there are any (clang-tidy's
# count; LIMIT=n changes the limit).
function-lengths: deps $(BUILD_DIR)/CMakeCache.txt
	JOBS=$(JOBS) bash scripts/function-lengths.sh $(BUILD_DIR)

# Regenerates the committed parity fixtures in tests/fixtures/tiny (same bytes every run).
PYTHON ?= /usr/bin/python3
fixtures:
	$(PYTHON) tests/fixtures/make_fixtures.py

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz

# Opens every report.html and figure of a smoke run, and every committed figure and report page
# under experiments/results/, in headless Chromium, and fails if any text leaves its SVG canvas
# or overlaps another text (tests/browser/; it first checks that it fails known_bad.svg).
# Screenshots land in $(BUILD_DIR)/browser-test/shots/.
test-browser: build
	@bash scripts/install-browser-deps.sh
	rm -rf $(BUILD_DIR)/browser-test
	./$(BUILD_DIR)/lorasum reproduce --preset smoke --out $(BUILD_DIR)/browser-test/smoke --no-progress >/dev/null
	python3 tests/browser/run.py --shots $(BUILD_DIR)/browser-test/shots \
	    $(BUILD_DIR)/browser-test/smoke experiments/results
