"""The image pipeline and the one model runner, below every app: plain Python, no Django.

What a character or a line of writing becomes before a model reads it (`preprocessing`, `photo`,
`segmentation`, `words`, `lexicon`), how a bundle on disk is read (`bundle`) and run with LiteRT
(`inference`). Training, evaluation and retraining (ml) and serving (recognition) use the same
code, so a model is measured on what users' drawings become.
"""
