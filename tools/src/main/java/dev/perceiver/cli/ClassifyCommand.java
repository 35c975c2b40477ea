package dev.perceiver.cli;

import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.RgbImage;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.Head;
import dev.perceiver.model.InvalidInputException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** perceiver classify: ImageNet-style top-k classes of image files. */
final class ClassifyCommand implements Command {
    static final Head[] HEADS = {Head.IMAGE_CLASSIFICATION_LEARNED, Head.IMAGE_CLASSIFICATION_FOURIER,
            Head.IMAGE_CLASSIFICATION_CONV};

    @Override
    public String name() {
        return "classify";
    }

    @Override
    public String summary() {
        return "classify images with a vision model (learned, Fourier or conv preprocessing)";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver classify --model DIR [--top-k K] [--json] [--batch B] IMAGE|FOLDER...

                Classifies PNG, JPEG, BMP and GIF images (a folder stands for its image files, sorted by name)
                with PerceiverForImageClassificationLearned, -Fourier or -ConvProcessing. Images are prepared as
                HF's PerceiverImageProcessor does: centre crop of 224/256 of the shorter side, bicubic resize to
                224x224, ImageNet mean/std, or as the model folder's preprocessor_config.json says (size,
                crop_size, do_center_crop, do_resize, image_mean, image_std; resample 3 only). A learned-position
                model whose image_size is not 224 and that has no preprocessor_config.json gets images of
                image_size x image_size.

                Output per image: its file, then one line per class: probability  label (index), labels from the
                config's id2label. With --json, one JSON object per image per line:
                  {"file": ..., "top": [{"label": ..., "index": ..., "probability": ..., "logit": ...}, ...]}

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin
                  --top-k K         classes per image (default 5)
                  --json            JSON lines instead of text
                  --batch B         images per forward pass (default 8)
                  --threads N       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                  --quiet           no progress line
                """;
    }

    @Override
    public Set<String> flags() {
        return Set.of("json");
    }

    @Override
    public Set<String> valued() {
        return ModelArgs.with("top-k", "batch");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        int topK = args.getInt("top-k", 5, 1), batch = args.getInt("batch", 8, 1);
        boolean json = args.has("json");
        if (args.positional().isEmpty()) throw new UsageException("give at least one image file or folder");
        List<Path> files = ImageInputs.expand(args.positional());
        try (Perceiver model = ModelArgs.load(args, name(), HEADS)) {
            ImageProcessor processor = ImageInputs.processor(ModelArgs.modelDir(args), model.config(), model.head());
            Progress progress = new Progress(err, "classify", files.size(), args.has("quiet"));
            for (int start = 0; start < files.size(); start += batch) {
                List<Path> chunk = files.subList(start, Math.min(files.size(), start + batch));
                try (Arena arena = Arena.ofConfined()) {
                    Tensor pixels = Tensor.zeros(arena, chunk.size(), 3, processor.height(), processor.width());
                    for (int i = 0; i < chunk.size(); i++) pixels.select(0, i).copyFrom(prepare(processor, chunk.get(i), arena));
                    Tensor logits = model.forward(PerceiverInputs.of(pixels)).logitsTensor();
                    for (int i = 0; i < chunk.size(); i++) {
                        List<Predictions.Prediction> top = Predictions.topK(logits.select(0, i).toArray(), topK,
                                model.config()::label);
                        print(out, chunk.get(i), top, json);
                        progress.step(chunk.get(i).getFileName().toString());
                    }
                }
            }
        }
        return Main.OK;
    }

    /** One image's pixel values; an image the processor cannot take is bad input, named by its file. */
    private static Tensor prepare(ImageProcessor processor, Path file, Arena arena) throws IOException {
        RgbImage image = ImageInputs.read(file);
        try {
            return processor.preprocess(image, arena);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file + ": " + e.getMessage());
        }
    }

    private static void print(PrintStream out, Path file, List<Predictions.Prediction> top, boolean json) {
        if (json) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("file", file.toString());
            line.put("top", Predictions.json(top));
            out.println(Json.write(line));
        } else {
            out.println(file);
            top.forEach(p -> out.println("  " + p.line()));
        }
        out.flush();
    }
}
