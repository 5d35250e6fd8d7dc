"""Metrics and plots shared by `train`, `evaluate` and `retrain` (no TensorFlow)."""
from collections import Counter

import numpy as np

CONFUSIONS_SHOWN = 10


def summary(true, probabilities, labels):
    """Accuracy, top-3, case-insensitive accuracy (when letters), per-class accuracy, confusions."""
    true = np.asarray(true)
    predicted = probabilities.argmax(axis=1)
    top3 = np.argsort(-probabilities, axis=1)[:, :3]
    result = {
        "count": len(true),
        "accuracy": _share(predicted == true),
        "top3": _share((top3 == true[:, None]).any(axis=1)),
    }
    if any(label.isalpha() for label in labels):
        folded = np.array([label.lower() for label in labels])
        result["case_insensitive"] = _share(folded[predicted] == folded[true])
    if any(label.isdigit() for label in labels) and any(label.isalpha() for label in labels):
        digits = np.array([labels[t].isdigit() for t in true])
        if digits.any():
            result["digits_accuracy"] = _share(predicted[digits] == true[digits])
    result["per_class"] = {
        labels[c]: _share(predicted[true == c] == c) for c in np.unique(true)
    }
    errors = Counter((labels[t], labels[p]) for t, p in zip(true, predicted) if t != p)
    result["confusions"] = [
        {"true": t, "predicted": p, "count": n} for (t, p), n in errors.most_common(CONFUSIONS_SHOWN)
    ]
    return result


def _share(hits):
    return round(float(np.mean(hits)), 5) if len(hits) else 0.0


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(true, predicted, labels, path, title=""):
    """Row-normalised confusion matrix as a PNG (log colour scale shows the rare errors)."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    n = len(labels)
    matrix = np.zeros((n, n))
    np.add.at(matrix, (np.asarray(true), np.asarray(predicted)), 1)
    matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = 4 + n * 0.16
    figure, axes = plt.subplots(figsize=(size, size))
    shown = axes.imshow(np.where(matrix > 0, matrix, np.nan), cmap="viridis", norm=LogNorm(1e-3, 1))
    axes.set_xticks(range(n), labels, fontsize=7)
    axes.set_yticks(range(n), labels, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    figure.colorbar(shown, fraction=0.046, pad=0.04)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot_curves(history, path):
    """Loss and accuracy per epoch, train vs validation."""
    plt = _pyplot()
    figure, (loss, accuracy) = plt.subplots(1, 2, figsize=(10, 4))
    for key, axes in (("loss", loss), ("accuracy", accuracy)):
        axes.plot(history.get(key, []), label=f"train {key} (augmented)")
        axes.plot(history.get(f"val_{key}", []), label=f"validation {key}")
        axes.set_xlabel("epoch")
        axes.legend()
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path

