package dev.perceiver.task;

import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Text classification with PerceiverForSequenceClassification, classes labelled from the config's id2label. */
public final class TextClassifier extends TaskModel {

    private TextClassifier(Perceiver model) {
        super(model, Task.CLASSIFY_TEXT);
    }

    public static TextClassifier open(Path dir) {
        return open(dir, Perceiver.Options.DEFAULT);
    }

    /** The model in folder dir; a model of another task is refused before its weights are read. */
    public static TextClassifier open(Path dir, Perceiver.Options options) {
        return new TextClassifier(load(dir, options, Task.CLASSIFY_TEXT));
    }

    /** A loaded model of this task, which closing this closes. */
    public static TextClassifier of(Perceiver model) {
        return new TextClassifier(model);
    }

    /** The k most likely classes of text, most likely first. */
    public List<Prediction> classify(String text, int k) {
        return classify(List.of(text), k).getFirst();
    }

    /** The k most likely classes of each text, in one forward pass; a text too long for the model is refused. */
    public List<List<Prediction>> classify(List<String> texts, int k) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor logits = TextBatch.logits(model, TextBatch.tokens(model, texts), arena);
            List<List<Prediction>> out = new ArrayList<>(texts.size());
            for (int i = 0; i < texts.size(); i++) out.add(top(logits.select(0, i).toArray(), k));
            return out;
        }
    }

    /** The k most likely classes of one row of logits, labelled from the config's id2label. */
    public List<Prediction> top(float[] logits, int k) {
        return Prediction.topK(logits, k, model.config()::label);
    }
}
