/**
 * The library's task API: one class per task, each opened on a model folder as the hub publishes it and closed when
 * done, e.g. {@code try (var m = ImageClassifier.open(dir)) { List<Prediction> top = m.classify(image, 5); }}. The
 * {@code perceiver} commands of the same names are thin users of these classes. {@link dev.perceiver.model.Perceiver}
 * is the low-level API beneath them (tensors in, tensors out).
 */
package dev.perceiver.task;
