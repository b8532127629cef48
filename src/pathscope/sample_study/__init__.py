"""The shipped sample study: problems pathscope generates itself, and the
training step that turns the base model into the study's RL model."""
