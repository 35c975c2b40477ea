package dev.perceiver.cli;

import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.Head;
import dev.perceiver.model.InvalidInputException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** perceiver fill-mask: the masked language model's bytes for the [MASK] tokens of a text. */
final class FillMaskCommand implements Command {
    @Override
    public String name() {
        return "fill-mask";
    }

    @Override
    public String summary() {
        return "predict the bytes hidden by [MASK] in a text (masked language model)";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver fill-mask --model DIR [--top-k K] [--json] "text with [MASK] spans"

                Runs PerceiverForMaskedLM on [CLS] text [SEP], padded to max_position_embeddings with an attention
                mask. The model works on UTF-8 bytes: each [MASK] hides one byte, so write as many [MASK]s as the
                hidden text has bytes, e.g. "This is an incomplete sentence where some words are[MASK][MASK]..."
                For each [MASK] it prints the token position (the [CLS] is position 0), the most likely byte and
                the K most likely tokens with their probabilities, then the text with every [MASK] replaced by its
                most likely byte (decoded as UTF-8, invalid sequences shown as U+FFFD, as the tokenizer does).

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin
                  --top-k K         candidates per [MASK] (default 5)
                  --json            one JSON object: text, filled, and per mask its position, predicted
                                    token_id, byte, text and top candidates (label, index, probability, logit)
                  --threads N       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                  --quiet           no notes on stderr
                """;
    }

    @Override
    public Set<String> flags() {
        return Set.of("json");
    }

    @Override
    public Set<String> valued() {
        return ModelArgs.with("top-k");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        int topK = args.getInt("top-k", 5, 1);
        if (args.positional().size() != 1)
            throw new UsageException("give the text as one (quoted) argument; got " + args.positional().size());
        String text = args.positional().getFirst();
        int[] tokens;
        try {
            tokens = PerceiverTokenizer.tokenize(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("the text cannot be encoded as UTF-8: " + e.getMessage());
        }
        List<Integer> masks = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) if (tokens[i] == PerceiverTokenizer.MASK) masks.add(i + 1);
        if (masks.isEmpty()) throw new InvalidInputException("the text has no [MASK] to fill in");
        try (Perceiver model = ModelArgs.load(args, name(), Head.MASKED_LM); Arena arena = Arena.ofConfined()) {
            int length = model.config().maxPositionEmbeddings();
            if (tokens.length > length - 2)
                throw new InvalidInputException("the text is " + tokens.length + " tokens (UTF-8 bytes, a [MASK] counting one); "
                        + "this model takes at most " + (length - 2) + " (max_position_embeddings " + length
                        + " less [CLS] and [SEP])");
            PerceiverTokenizer.Encoding enc = PerceiverTokenizer.encode(text, length, PerceiverTokenizer.Overflow.ERROR);
            long[] ids = new long[length];
            float[] mask = new float[length];
            for (int i = 0; i < length; i++) {
                ids[i] = enc.inputIds()[i];
                mask[i] = enc.attentionMask()[i];
            }
            Tensor logits = model.forward(PerceiverInputs.ofTokens(LongTensor.of(ids, 1, length))
                    .attentionMask(Tensor.of(arena, mask, 1, length))).logitsTensor().select(0, 0);
            int[] filled = new int[tokens.length];
            for (int i = 0; i < tokens.length; i++) filled[i] = enc.inputIds()[i + 1];
            List<Map<String, Object>> results = new ArrayList<>();
            List<String> lines = new ArrayList<>();
            for (int position : masks) {
                List<Predictions.Prediction> top = Predictions.topK(logits.select(0, position).toArray(), topK,
                        FillMaskCommand::tokenText);
                int best = top.getFirst().index();
                filled[position - 1] = best;
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("position", position);
                r.put("token_id", best);
                r.put("byte", best >= PerceiverTokenizer.SPECIAL_TOKENS ? best - PerceiverTokenizer.SPECIAL_TOKENS : null);
                r.put("text", tokenText(best));
                r.put("top", Predictions.json(top));
                results.add(r);
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%8d  %-14s", position,
                        Json.write(tokenText(best)) + " " + byteName(best)));
                for (Predictions.Prediction p : top)
                    line.append(String.format(Locale.ROOT, "  %s %.4f", Json.write(p.label()), p.probability()));
                lines.add(line.toString());
            }
            String filledText = PerceiverTokenizer.decode(filled, false, false);
            if (args.has("json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("text", text);
                o.put("filled", filledText);
                o.put("masks", results);
                out.println(Json.write(o));
            } else {
                out.printf("position  predicted       top-%d%n", Math.min(topK, logits.dim(1)));
                lines.forEach(out::println);
                out.println("filled: " + filledText);
            }
        }
        return Main.OK;
    }

    /** A token as the tokenizer decodes it alone: a special token's name, a byte's character or U+FFFD. */
    static String tokenText(int id) {
        return PerceiverTokenizer.decode(new int[] {id}, false, false);
    }

    private static String byteName(int id) {
        int b = id - PerceiverTokenizer.SPECIAL_TOKENS;
        return b >= 0 ? String.format("(0x%02X)", b) : "(special)";
    }
}
