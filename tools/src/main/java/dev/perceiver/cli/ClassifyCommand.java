package dev.perceiver.cli;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.ImageClassifier;
import dev.perceiver.task.Prediction;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** perceiver classify: ImageNet-style top-k classes of image files. */
final class ClassifyCommand implements Command {
    @Override
    public String name() {
        return Task.CLASSIFY.command();
    }

    @Override
    public String summary() {
        return "classify images with a vision model (learned, Fourier or conv preprocessing)";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver classify --model DIR [--top-k K] [--json] [--batch B] [--recursive] [--no-resize]
                                          IMAGE|FOLDER|-...

                Classifies PNG, JPEG, BMP and GIF images (a folder stands for its image files, sorted by name; with
                --recursive, those of its subfolders too; - reads paths from stdin, one a line)
                with PerceiverForImageClassificationLearned, -Fourier or -ConvProcessing. Images are prepared as
                HF's PerceiverImageProcessor does: centre crop of 224/256 of the shorter side, bicubic resize to
                224x224, ImageNet mean/std, or as the model folder's preprocessor_config.json says (size,
                crop_size, do_center_crop, do_resize, image_mean, image_std; resample 3 only). A learned-position
                model whose image_size is not 224 and that has no preprocessor_config.json gets images of
                image_size x image_size.

                With --no-resize each image keeps its own size: no centre crop and no resize, only the rescaling
                and mean/std normalisation. The Fourier and conv models take any size as it is (their positions
                follow the image's grid; the conv model needs at least 5x5 pixels for its 7x7/2 conv and 3x3/2
                max pool); the learned-position model resizes its position table to the image (transformers
                4.42's interpolate_pos_encoding, bicubic). Images of one size share a forward pass.

                Output per image: its file, then one line per class: probability  label (index), labels from the
                config's id2label. With --json, one JSON object per image per line:
                  {"file": ..., "top": [{"label": ..., "index": ..., "probability": ..., "logit": ...}, ...]}
                (a NaN or infinite value is written as null). An image that cannot be read or used gets an error
                line instead, {"file": ..., "error": ...} with --json or on stderr without, and the others still
                run; the exit code is then 4. A closing line on stderr counts images, time and errors.

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin
                  --top-k K         classes per image (default 5)
                  --json            JSON lines instead of text
                  --batch B         images per forward pass (default 8)
                  --recursive       also the images in subfolders of a FOLDER
                  --no-resize       keep each image's size (no crop or resize; see above)
                %s                  --threads N       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                  --quiet           no progress or closing line (the closing line still comes if inputs failed)
                  --verbose         also which kernels and device run
                """.formatted(BatchRun.FLAGS_HELP);
    }

    @Override
    public Set<String> flags() {
        return BatchRun.flagsWith("json", "recursive", "no-resize");
    }

    @Override
    public Set<String> valued() {
        return ModelArgs.with("top-k", "batch");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        int topK = args.getInt("top-k", 5, 1), batch = args.getInt("batch", 8, 1);
        if (args.positional().isEmpty()) throw new UsageException("give at least one image file or folder, or - to read paths from stdin");
        List<ImageInputs.Input> inputs = ImageInputs.expand(args.positional(), args.has("recursive"), args.stdin());
        boolean ownSize = args.has("no-resize");
        Perceiver.Options options = ModelArgs.options(args);
        try (ImageClassifier classifier = ImageClassifier.open(ModelArgs.folder(args, Task.CLASSIFY), options)) {
            BatchRun run = new BatchRun(name(), "images", inputs.size(), args, out, err);
            for (int start = 0; start < inputs.size() && !run.stopped(); start += batch) {
                List<ImageInputs.Input> chunk = inputs.subList(start, Math.min(inputs.size(), start + batch));
                try (Arena arena = Arena.ofConfined()) {
                    // Each image prepared alone: one that cannot be read costs only its own result.
                    String[] errors = new String[chunk.size()];
                    Tensor[] prepared = new Tensor[chunk.size()];
                    for (int i = 0; i < chunk.size(); i++) {
                        ImageInputs.Input in = chunk.get(i);
                        errors[i] = in.error();
                        if (errors[i] != null) continue;
                        try {
                            prepared[i] = classifier.pixels(in.file(), ownSize, arena);
                        } catch (IllegalArgumentException e) { // InvalidInputException among them
                            errors[i] = e.getMessage();
                        } catch (IOException e) {
                            errors[i] = PathChecks.describe(e);
                        }
                    }
                    float[][] logits = classify(classifier, prepared, errors, ownSize, arena);
                    for (int i = 0; i < chunk.size() && !run.stopped(); i++) {
                        String file = chunk.get(i).name();
                        if (errors[i] != null) {
                            run.error("file", file, errors[i]);
                            continue;
                        }
                        List<Prediction> top = classifier.top(logits[i], topK);
                        Map<String, Object> line = new LinkedHashMap<>();
                        line.put("file", file);
                        line.put("top", Predictions.json(top));
                        StringBuilder text = new StringBuilder(file).append(System.lineSeparator());
                        top.forEach(p -> text.append("  ").append(Predictions.line(p)).append(System.lineSeparator()));
                        run.result(text.toString(), line, Path.of(file).getFileName().toString());
                    }
                }
            }
            return run.finish();
        }
    }

    /**
     * The logits of each prepared image (null where there is none), one forward pass per image size (all of one size
     * unless ownSize, --no-resize). With ownSize a size the model cannot take is an error for each image of that
     * size, not the run; without it every image has the processor's size, and the model refusing that fails the run.
     */
    private static float[][] classify(ImageClassifier classifier, Tensor[] prepared, String[] errors, boolean ownSize,
                                      Arena arena) {
        Map<List<Integer>, List<Integer>> bySize = new LinkedHashMap<>();
        for (int i = 0; i < prepared.length; i++)
            if (prepared[i] != null) bySize.computeIfAbsent(List.of(prepared[i].dim(1), prepared[i].dim(2)),
                    k -> new ArrayList<>()).add(i);
        float[][] logits = new float[prepared.length][];
        for (List<Integer> items : bySize.values()) {
            List<Tensor> images = items.stream().map(i -> prepared[i]).toList();
            try {
                Tensor out = classifier.logits(images, ownSize, arena);
                for (int row = 0; row < items.size(); row++) logits[items.get(row)] = out.select(0, row).toArray();
            } catch (InvalidInputException e) {
                if (!ownSize) throw e;
                for (int i : items) errors[i] = e.getMessage();
            }
        }
        return logits;
    }
}
