.PHONY: lab

# Regenerate the scenario captures and truth files (root; see testdata/scenarios/README.md).
lab:
	bash testdata/lab/run.sh testdata/scenarios
