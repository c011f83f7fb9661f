"""What maintainers run, above everything it uses: lesson generation from solutions
(:mod:`.notebooks`), the papermill runner and in-place refresh (:mod:`.runner`), the course
report (:mod:`.report`) and the command line (:mod:`.cli`). Notebooks never import from here.
Imports neither PyTorch nor TensorFlow."""
