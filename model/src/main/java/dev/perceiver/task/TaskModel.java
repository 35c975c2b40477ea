package dev.perceiver.task;

import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;

import java.nio.file.Path;

/** What every task class has: the model beneath it, checked to do its task, closed with it. */
public abstract sealed class TaskModel implements AutoCloseable
        permits ImageClassifier, TextClassifier, MaskFiller, OpticalFlow, Autoencoder {
    final Perceiver model;

    /** model must do task (else a CheckpointException, and the caller still owns it); closing this closes it. */
    TaskModel(Perceiver model, Task task) {
        ModelFolder.require(model.config(), task, "the model");
        this.model = model;
    }

    /** The model in folder dir, refused before its weights are read if it does not do task. */
    static Perceiver load(Path dir, Perceiver.Options options, Task task) {
        return ModelFolder.read(dir).require(task, dir.toString()).load(options);
    }

    /** The model beneath, for what the task class does not do (extra outputs, other batching). */
    public Perceiver model() {
        return model;
    }

    @Override
    public void close() {
        model.close();
    }
}
