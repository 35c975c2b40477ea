package dev.perceiver.cli;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.MaskFiller;
import dev.perceiver.task.Prediction;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** perceiver fill-mask: the masked language model's bytes for the [MASK] tokens of a text. */
final class FillMaskCommand implements TextInputs.TextCommand {
    @Override
    public String name() {
        return Task.FILL_MASK.command();
    }

    @Override
    public String summary() {
        return "predict the bytes hidden by [MASK] in a text (masked language model)";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver fill-mask --model DIR [--top-k K] [--json] "text with [MASK] spans"...
                       perceiver fill-mask --model DIR [--top-k K] [--json] --input FILE|-

                Runs PerceiverForMaskedLM on [CLS] text [SEP], padded to max_position_embeddings with an attention
                mask. The model works on UTF-8 bytes: each [MASK] hides one byte, so write as many [MASK]s as the
                hidden text has bytes, e.g. "This is an incomplete sentence where some words are[MASK][MASK]..."
                For each [MASK] it prints the token position (the [CLS] is position 0), the most likely byte and
                the K most likely tokens with their probabilities, then the text with every [MASK] replaced by its
                most likely byte (decoded as UTF-8, invalid sequences shown as U+FFFD, as the tokenizer does).
                Many texts run in one process: several arguments, or one per line of --input. A text that cannot
                run (no [MASK], too long) gets an error line, the others still run, and the exit code is then 4.

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin
                  --top-k K         candidates per [MASK] (default 5)
                  --json            one JSON object per text per line (JSON Lines): line (with --input), text,
                                    filled, and per mask its position, predicted token_id, byte, text and top
                                    candidates (label, index, probability, logit; NaN is written as null);
                                    a text that fails gives {"line" or "text": ..., "error": ...}
                """ + TextInputs.COMMON_HELP;
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        int topK = args.getInt("top-k", 5, 1);
        List<TextInputs.Text> texts = TextInputs.read(args);
        boolean many = texts.size() > 1;
        try (MaskFiller filler = MaskFiller.of(ModelArgs.load(args, Task.FILL_MASK))) {
            return TextInputs.run(name(), args, texts, filler.model(), out, err, new TextInputs.Task() {
                @Override
                public void check(TextInputs.Text text, int[] tokens) {
                    MaskFiller.requireMask(tokens);
                }

                @Override
                public void report(TextInputs.Text text, int[] tokens, Tensor logits, BatchRun run) {
                    fill(text, tokens, logits, topK, many, run);
                }
            });
        }
    }

    /** One text's result: each [MASK]'s candidates and the text filled in with the best ones. */
    private static void fill(TextInputs.Text text, int[] tokens, Tensor logits, int topK, boolean many, BatchRun run) {
        MaskFiller.Filled filled = MaskFiller.fill(tokens, logits, topK);
        List<Map<String, Object>> results = new ArrayList<>();
        StringBuilder lines = new StringBuilder();
        String nl = System.lineSeparator();
        if (many) lines.append("text: ").append(text.text()).append(nl);
        lines.append(String.format(Locale.ROOT, "position  predicted       top-%d%n", Math.min(topK, logits.dim(1))));
        for (MaskFiller.Mask mask : filled.masks()) {
            int best = mask.best();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("position", mask.position());
            r.put("token_id", best);
            r.put("byte", best >= PerceiverTokenizer.SPECIAL_TOKENS ? best - PerceiverTokenizer.SPECIAL_TOKENS : null);
            r.put("text", MaskFiller.tokenText(best));
            r.put("top", Predictions.json(mask.top()));
            results.add(r);
            lines.append(String.format(Locale.ROOT, "%8d  %-14s", mask.position(),
                    Json.write(MaskFiller.tokenText(best)) + " " + byteName(best)));
            for (Prediction p : mask.top())
                lines.append(String.format(Locale.ROOT, "  %s %.4f", Json.write(p.label()), p.probability()));
            lines.append(nl);
        }
        lines.append("filled: ").append(filled.text()).append(nl);
        if (many) lines.append(nl);
        Map<String, Object> o = text.json();
        o.put("filled", filled.text());
        o.put("masks", results);
        run.result(lines.toString(), o, "");
    }

    private static String byteName(int id) {
        int b = id - PerceiverTokenizer.SPECIAL_TOKENS;
        return b >= 0 ? String.format("(0x%02X)", b) : "(special)";
    }
}
