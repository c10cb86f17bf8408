# PolicyQA: `make run` serves the chat widget, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test lint eval clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch==2.13.0 is pinned in the [st] extra: the CPU wheel, not a multi-GB CUDA build.
	$(BIN)/pip install --quiet -e '.[st,milvus,test]'
	touch $@

install: $(BIN)/.installed

# LibreOffice converts old Word/WPS files (.doc .wps .et .dps: Writer, Calc, Impress) to text (ingest/formats); Debian's headless build.
LIBREOFFICE := /usr/lib/libreoffice/program/libslideshowlo.so
# (a file of the Impress package stands for all three: they are installed together)
$(LIBREOFFICE):
	@command -v apt-get >/dev/null || { echo "install LibreOffice (Debian: libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui) to read .doc/.wps files"; exit 1; }
	apt-get install -y -q libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null && apt-get install -y -q libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui >/dev/null)

run: install $(LIBREOFFICE)
	$(BIN)/policyqa serve --ingest

# A CJK font lets the PDF reader test write a Chinese sample PDF (Debian package, installed when missing).
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
$(CJK_FONT):
	@command -v apt-get >/dev/null || { echo "install a CJK font (Debian: fonts-wqy-microhei)"; exit 1; }
	apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null && apt-get install -y -q fonts-wqy-microhei >/dev/null)

# The end-to-end widget test drives Debian's Chromium with Playwright (`playwright install` downloads a
# browser build of its own, which is not used here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium at $(CHROMIUM) (Debian: chromium)"; exit 1; }
	apt-get install -y -q chromium >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)

test: install $(CJK_FONT) $(CHROMIUM) $(LIBREOFFICE)
	$(BIN)/ruff check .
	$(BIN)/pytest -q -ra

eval: install
	$(BIN)/policyqa eval evals/seed.jsonl

clean:
	rm -rf $(VENV) data reports
