package dev.perceiver.cli;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.TextBatch;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The texts of the language commands, many per JVM: the arguments, or the lines of --input FILE (- for stdin), each
 * one input of a {@link BatchRun}, run as {@code [CLS] text [SEP]} padded to max_position_embeddings, --batch texts
 * per forward pass.
 */
final class TextInputs {
    static final String OPTIONS_HELP = """
              --input FILE      one text per line of FILE (- for stdin) instead of TEXT arguments; blank lines
                                are skipped, invalid UTF-8 is read as U+FFFD with a warning naming its offset
              --batch B         texts per forward pass (default 8)
            """;

    /** One text: its id in error lines ({"line": 3} or {"text": ...}) and its characters. */
    record Text(String key, Object id, String text) {
        /** The JSON line's opening members: where the text came from, and the text. */
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            if (key.equals("line")) m.put("line", id);
            m.put("text", text);
            return m;
        }
    }

    /** What a command does with each text: refuse it (an IllegalArgumentException; none by default), report its logits. */
    interface Task {
        default void check(Text text, int[] tokens) {
        }

        /** logits: this text's row of the model's logits. */
        void report(Text text, int[] tokens, Tensor logits, BatchRun run);
    }

    private TextInputs() {}

    /** The options of the commands that run texts, beside their own. */
    /** The options every text command shares, the last lines of its --help. */
    static final String COMMON_HELP = OPTIONS_HELP + BatchRun.FLAGS_HELP + """
              --threads N       worker threads (default: all processors)
              --device D        cpu, gpu or auto (default auto)
              --quiet           no progress or closing line (the closing line still comes if texts failed)
              --verbose         also which kernels and device run
            """;

    /** A command over many texts: the shared options. */
    interface TextCommand extends Command {
        @Override
        default Set<String> flags() {
            return TextInputs.flags();
        }

        @Override
        default Set<String> valued() {
            return TextInputs.valued();
        }
    }

    static Set<String> flags() {
        return BatchRun.flagsWith("json");
    }

    static Set<String> valued() {
        return ModelArgs.with("top-k", "input", "batch");
    }

    /** Runs task over texts (from {@link #read}); returns the exit code. */
    static int run(String command, Args args, List<Text> texts, Perceiver model, PrintStream out, PrintStream err,
                   Task task) {
        int batch = args.getInt("batch", 8, 1), length = model.config().maxPositionEmbeddings();
        BatchRun run = new BatchRun(command, "texts", texts.size(), args, out, err);
        for (int start = 0; start < texts.size() && !run.stopped(); start += batch) {
            List<Text> chunk = texts.subList(start, Math.min(texts.size(), start + batch));
            String[] errors = new String[chunk.size()];
            List<int[]> tokens = new ArrayList<>();
            for (int i = 0; i < chunk.size(); i++) {
                try {
                    int[] t = TextBatch.tokens(chunk.get(i).text(), length);
                    task.check(chunk.get(i), t);
                    tokens.add(t);
                } catch (IllegalArgumentException e) { // InvalidInputException among them
                    errors[i] = e.getMessage();
                }
            }
            try (Arena arena = Arena.ofConfined()) {
                Tensor logits = tokens.isEmpty() ? null : TextBatch.logits(model, tokens, arena);
                for (int i = 0, row = 0; i < chunk.size() && !run.stopped(); i++) {
                    if (errors[i] != null) run.error(chunk.get(i).key(), chunk.get(i).id(), errors[i]);
                    else task.report(chunk.get(i), tokens.get(row), logits.select(0, row++), run);
                }
            }
        }
        return run.finish();
    }

    /** The texts: --input's lines or the arguments, at least one. */
    static List<Text> read(Args args) throws IOException {
        if (args.has("input") == !args.positional().isEmpty())
            throw new UsageException("give the texts either as (quoted) arguments or with --input FILE, not both or neither");
        List<Text> texts = new ArrayList<>();
        if (!args.has("input")) {
            for (int i = 0; i < args.positional().size(); i++) {
                String text = args.positional().get(i);
                int bad = text.indexOf('\uFFFD');
                if (bad >= 0)
                    args.warn("argument " + (i + 1) + " holds U+FFFD at byte offset "
                            + text.substring(0, bad).getBytes(StandardCharsets.UTF_8).length
                            + " (invalid UTF-8 on the command line?); it is read as the bytes EF BF BD");
                texts.add(new Text("text", text, text));
            }
            return texts;
        }
        String source = args.get("input", null);
        byte[] bytes;
        if (source.equals("-")) {
            bytes = args.stdin().readAllBytes();
        } else {
            bytes = Files.readAllBytes(PathChecks.file("--input", source, Main.BAD_INPUT));
        }
        int lineStart = 0, number = 0;
        while (lineStart < bytes.length) {
            int end = lineStart;
            while (end < bytes.length && bytes[end] != '\n') end++;
            number++;
            int stop = end > lineStart && bytes[end - 1] == '\r' ? end - 1 : end;
            String text = decode(Arrays.copyOfRange(bytes, lineStart, stop), lineStart, number, source, args);
            if (!text.isBlank()) texts.add(new Text("line", number, text));
            lineStart = end + 1;
        }
        if (texts.isEmpty()) throw new InvalidInputException("--input " + source + ": no text in it (every line is blank)");
        return texts;
    }

    /** One line as UTF-8; invalid bytes become U+FFFD, with a warning that names the first one's offset. */
    private static String decode(byte[] line, int offset, int number, String source, Args args) {
        CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(line);
        CoderResult result = strict.decode(in, CharBuffer.allocate(line.length), true);
        if (result.isError())
            args.warn("--input " + source + ": line " + number + ": invalid UTF-8 at byte offset " + (offset + in.position())
                    + " (byte " + in.position() + " of the line); read as U+FFFD");
        return new String(line, StandardCharsets.UTF_8);
    }
}
