package dev.perceiver.cli;

import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.Prediction;
import dev.perceiver.task.TextClassifier;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** perceiver classify-text: the sequence classification head's classes of texts. */
final class ClassifyTextCommand implements TextInputs.TextCommand {
    @Override
    public String name() {
        return Task.CLASSIFY_TEXT.command();
    }

    @Override
    public String summary() {
        return "classify texts with a sequence classification model";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver classify-text --model DIR [--top-k K] [--json] "text"...
                       perceiver classify-text --model DIR [--top-k K] [--json] --input FILE|-

                Runs PerceiverForSequenceClassification on [CLS] text [SEP] (UTF-8 bytes), padded to
                max_position_embeddings with an attention mask, and prints per text the K most likely classes:
                probability  label (index), labels from the config's id2label. Many texts run in one process:
                several arguments, or one per line of --input. A text that cannot run (too long) gets an error
                line, the others still run, and the exit code is then 4.

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin
                  --top-k K         classes per text (default 5)
                  --json            one JSON object per text per line (JSON Lines):
                                    {"line": N (with --input), "text": ..., "top": [{"label", "index",
                                    "probability", "logit"}, ...]}, NaN written as null; a text that fails
                                    gives {"line" or "text": ..., "error": ...}
                """ + TextInputs.COMMON_HELP;
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        int topK = args.getInt("top-k", 5, 1);
        List<TextInputs.Text> texts = TextInputs.read(args);
        try (TextClassifier classifier = TextClassifier.of(ModelArgs.load(args, Task.CLASSIFY_TEXT))) {
            return TextInputs.run(name(), args, texts, classifier.model(), out, err, new TextInputs.Task() {
                @Override
                public void report(TextInputs.Text text, int[] tokens, Tensor logits, BatchRun run) {
                    List<Prediction> top = classifier.top(logits.toArray(), topK);
                    StringBuilder lines = new StringBuilder(text.text()).append(System.lineSeparator());
                    top.forEach(p -> lines.append("  ").append(Predictions.line(p)).append(System.lineSeparator()));
                    Map<String, Object> o = text.json();
                    o.put("top", Predictions.json(top));
                    run.result(lines.toString(), o, "");
                }
            });
        }
    }
}
