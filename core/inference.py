"""LiteRT inference on model bundles: the one way to run a model (no TensorFlow here), for the
web, `evaluate`, the retrain gate and the benches alike."""
import threading
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from core.bundle import BundleError, read_meta

# The most characters one inference call takes (a power of two).
MAX_BATCH = 64


class Recognizer:
    """One model bundle: its labels and metadata, and one LiteRT interpreter per thread.

    An interpreter is not thread-safe, so each thread gets its own; they all share the same
    model bytes, so extra threads cost only their tensor arena. `num_threads` is LiteRT's
    threads per call: 1 for web workers, which already serve one request per thread;
    offline commands that read thousands of images pass `os.cpu_count()`.
    """

    def __init__(self, bundle_dir, num_threads=1):
        self.bundle_dir = Path(bundle_dir)
        self.num_threads = num_threads
        self.meta = read_meta(self.bundle_dir)
        self.labels = list(self.meta["labels"])
        self.name = self.meta["name"]
        self.version = str(self.meta["version"])
        self.outputs_logits = self.meta.get("output") == "logits"
        self.input_shape = list(self.meta["input"]["shape"])
        # A text model scores each of its columns for every character and for CTC's blank.
        self.reads_lines = self.meta.get("decoding") == "ctc"
        self.classes = len(self.labels) + self.reads_lines
        self._model_content = (self.bundle_dir / "model.tflite").read_bytes()
        self._local = threading.local()
        self._thread_interpreter()  # fail at load, not at the first request, if it does not fit

    def _thread_interpreter(self, batch=1):
        """This thread's interpreter for `batch` images at once (batches have their own, resized
        once, so that switching sizes never reallocates tensors)."""
        states = self._local.__dict__.setdefault("states", {})
        state = states.get(batch)
        if state is None:
            interpreter = Interpreter(model_content=self._model_content, num_threads=self.num_threads)
            (input_detail,) = interpreter.get_input_details()
            output_detail = interpreter.get_output_details()[0]
            input_shape = [int(n) for n in input_detail["shape"]]
            if input_shape != self.input_shape or input_detail["dtype"] != np.float32:
                raise BundleError(
                    f"{self.bundle_dir}: model input {input_shape} {input_detail['dtype']} "
                    f"does not match the contract {self.input_shape} float32"
                )
            if int(output_detail["shape"][-1]) != self.classes:
                raise BundleError(
                    f"{self.bundle_dir}: model has {output_detail['shape'][-1]} outputs "
                    f"for {self.classes} classes"
                )
            if batch != 1:
                interpreter.resize_tensor_input(input_detail["index"], [batch, *input_shape[1:]])
            interpreter.allocate_tensors()
            state = (interpreter, input_detail["index"], output_detail["index"])
            states[batch] = state
        return state

    def probabilities(self, image):
        """One input image (28x28 character, or a text line) -> probability per label (for a
        text model: per column, per label and blank)."""
        return self._run(np.asarray(image, np.float32).reshape(self.input_shape), 1)[0]

    def batch_probabilities(self, images):
        """N input images in [0, 1] (a word's characters, a test set) -> N x labels, in one
        inference call per MAX_BATCH images (one for any word: it has at most 64 characters).

        Each batch is padded to the next power of two, so a thread keeps a handful of
        interpreters (1, 2, 4, ... MAX_BATCH) instead of one per word length.
        """
        images = np.asarray(images, np.float32).reshape(-1, *self.input_shape[1:])
        if not len(images):
            raise ValueError("a batch holds at least one image")
        return np.concatenate([self._run_padded(images[start:start + MAX_BATCH])
                               for start in range(0, len(images), MAX_BATCH)])

    def _run_padded(self, images):
        count = len(images)
        batch = 1 << (count - 1).bit_length()
        inputs = np.zeros((batch, *images.shape[1:]), np.float32)
        inputs[:count] = images
        return self._run(inputs, batch)[:count]

    def _run(self, inputs, batch):
        interpreter, input_index, output_index = self._thread_interpreter(batch)
        interpreter.set_tensor(input_index, inputs)
        interpreter.invoke()
        scores = interpreter.get_tensor(output_index).astype(np.float64)
        if self.outputs_logits:
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return scores / scores.sum(axis=-1, keepdims=True)
