"""The training schedule: cosine decay over the planned epochs, early stopping only once annealed."""
import keras
import numpy as np

from ml.training import AnnealedEarlyStopping, BudgetedCosine, augment, make_dataset


def compiled_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def schedule_and_stopping(planned, patience):
    model = compiled_model()
    schedule = BudgetedCosine(1e-3, planned, budget_seconds=None)
    stopping = AnnealedEarlyStopping(schedule, monitor="val_accuracy", mode="max",
                                     patience=patience, restore_best_weights=True)
    for callback in (schedule, stopping):
        callback.set_model(model)
        callback.set_params({"steps": 10, "epochs": planned})
        callback.on_train_begin()
    return model, schedule, stopping


def run_epochs(model, schedule, stopping, accuracies):
    """Feed the callbacks one epoch each, as `fit` does; the epoch at which training stops."""
    for epoch, accuracy in enumerate(accuracies):
        schedule.on_epoch_begin(epoch)
        schedule.on_train_batch_begin(9)
        model.layers[0].kernel.assign(np.full((2, 2), float(epoch), "float32"))
        for callback in (schedule, stopping):
            callback.on_epoch_end(epoch, {"val_accuracy": accuracy})
        if model.stop_training:
            return epoch
    return None


def test_a_flat_start_does_not_stop_training_before_the_second_half_of_the_schedule():
    model, schedule, stopping = schedule_and_stopping(planned=10, patience=2)
    falling = [0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.44, 0.43, 0.42, 0.41]
    # Plain early stopping would stop at epoch 2; here watching starts at epoch 5 (10 // 2),
    # which is the best one seen, and two epochs without gain stop at epoch 7.
    assert run_epochs(model, schedule, stopping, falling) == 7
    stopping.on_train_end()
    assert model.layers[0].kernel.numpy()[0, 0] == 5.0


def test_an_improving_run_ends_with_its_schedule_and_keeps_its_best_epoch():
    model, schedule, stopping = schedule_and_stopping(planned=6, patience=2)
    rising = [0.5, 0.6, 0.7, 0.8, 0.9, 0.85]
    assert run_epochs(model, schedule, stopping, rising) == 5
    stopping.on_train_end()
    assert model.layers[0].kernel.numpy()[0, 0] == 4.0
    assert float(model.optimizer.learning_rate.numpy()) < 1e-4


def test_training_batches_are_augmented_and_validation_batches_are_not():
    images = np.zeros((8, 28, 28, 1), "float32")
    images[:, 8:20, 12:16] = 1.0
    labels = np.arange(8)
    train_images, train_labels = next(iter(make_dataset(images, labels, 8, seed=1, training=True)))
    val_images, val_labels = next(iter(make_dataset(images, labels, 8, seed=1, training=False)))
    assert sorted(train_labels.numpy()) == list(labels) and list(val_labels.numpy()) == list(labels)
    np.testing.assert_array_equal(val_images.numpy(), images)
    assert not np.allclose(train_images.numpy(), images)
    assert 0.0 <= train_images.numpy().min() and train_images.numpy().max() <= 1.0
    assert augment(images).shape == images.shape


def test_the_plan_follows_the_pace_of_the_last_epoch_within_the_budget():
    """A slow first epoch (warm-up, a busy machine) must not fix the plan for the whole run."""
    now = [0.0]
    schedule = BudgetedCosine(1e-3, 10, budget_seconds=100, clock=lambda: now[0])
    schedule.set_model(compiled_model())
    schedule.on_train_begin()
    plans = []
    for epoch, seconds in enumerate([50, 10, 10, 10, 10, 10]):
        schedule.on_epoch_begin(epoch)
        now[0] += seconds
        schedule.on_epoch_end(epoch, {})
        plans.append(schedule.planned)
        if schedule.model.stop_training:
            break
    # 50 s left after the first epoch holds one more at its pace; at 10 s an epoch the 40 s left
    # after the second hold four more: six epochs, the last one ending at the budget.
    assert plans == [2, 6, 6, 6, 6, 6]


def test_the_plan_never_exceeds_the_epochs_asked_for():
    now = [0.0]
    schedule = BudgetedCosine(1e-3, 4, budget_seconds=1000, clock=lambda: now[0])
    schedule.set_model(compiled_model())
    schedule.on_train_begin()
    schedule.on_epoch_begin(0)
    now[0] += 1
    schedule.on_epoch_end(0, {})
    assert schedule.planned == 4 and not schedule.model.stop_training
