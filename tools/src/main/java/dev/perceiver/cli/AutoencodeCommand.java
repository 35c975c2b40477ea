package dev.perceiver.cli;

import dev.perceiver.io.VideoFiles;
import dev.perceiver.io.WavFiles;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.Head;
import dev.perceiver.model.InvalidInputException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.model.PerceiverOutput;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** perceiver autoencode: the multimodal model's reconstruction of a video with its audio, and its label guess. */
final class AutoencodeCommand implements Command {
    static final String AUDIO_FILE = "audio.wav";

    @Override
    public String name() {
        return "autoencode";
    }

    @Override
    public String summary() {
        return "reconstruct video frames and audio and guess the label (multimodal autoencoder)";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver autoencode --model DIR --video FRAMES_DIR --audio WAV --out DIR [--top-k K] [--json]

                Runs PerceiverForMultimodalAutoencoding on a video given as a folder of frame images (PNG, JPEG,
                BMP or GIF, in file-name order) and its sound as a WAV file (8/16/24/32-bit PCM or 32/64-bit float,
                the first channel of a stereo file; a streamed file with no data length is read to its end, with a
                warning). The video must have num_frames frames of the size the model
                reconstructs (output_shape: 16 frames of 224x224 for deepmind/multimodal-perceiver); the audio
                should have num_frames x audio_samples_per_frame samples (30720) and is padded with zeros or cut
                to that length otherwise. The label input is zeros (the model masks it anyway).
                Every output point is decoded in one pass, in chunks of bounded memory. Writes the reconstructed
                frames as DIR/frame_00000.png, ... and the audio as DIR/audio.wav (16-bit, at the input's sample
                rate), and prints the K most likely labels (softmax of the label logits, names from id2label).

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin
                  --video DIR       the frames
                  --audio FILE      the sound track
                  --out DIR         where to write the reconstruction (created if missing; its parent must exist)
                  --top-k K         labels to show (default 5)
                  --json            one JSON object: frames, audio, sample_rate, samples, top
                  --threads N       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                  --quiet           no progress line or notes
                """;
    }

    @Override
    public Set<String> flags() {
        return Set.of("json");
    }

    @Override
    public Set<String> valued() {
        return ModelArgs.with("video", "audio", "out", "top-k");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Path videoDir = PathChecks.folder("--video", args.require("video"), Main.BAD_INPUT);
        Path audioFile = PathChecks.file("--audio", args.require("audio"), Main.BAD_INPUT);
        Path outDir = PathChecks.output("--out", args.require("out"), true);
        int topK = args.getInt("top-k", 5, 1);
        boolean quiet = args.has("quiet");
        if (!args.positional().isEmpty()) throw new UsageException("unexpected argument '" + args.positional().getFirst() + "'");
        if (Files.isDirectory(outDir) && Files.isSameFile(outDir, videoDir))
            throw new UsageException("--out must not be the --video folder: the reconstruction would overwrite the frames");
        try (Perceiver model = ModelArgs.load(args, name(), Head.MULTIMODAL_AUTOENCODING); Arena arena = Arena.ofConfined()) {
            PerceiverConfig config = model.config();
            Tensor video = readVideo(videoDir, config, arena);
            WavFiles.Audio audio = readAudio(audioFile, config.numFrames() * config.audioSamplesPerFrame(), quiet, err, arena);
            Progress progress = new Progress(err, "decoding output points", 0, quiet);
            PerceiverInputs inputs = PerceiverInputs.ofModalities(Map.of("image", video, "audio", audio.samples(),
                            "label", Tensor.zeros(arena, 1, config.numLabels())))
                    .onProgress((done, total) -> progress.update(done, total, ""));
            PerceiverOutput result = model.forward(inputs);
            List<Integer> shape = config.outputShape();
            Files.createDirectories(outDir);
            List<Path> frames = VideoFiles.writeFrames(result.logits().get("image")
                    .reshape(shape.get(1), shape.get(2), shape.get(3), 3), outDir);
            Tensor sound = result.logits().get("audio");
            Path wav = outDir.resolve(AUDIO_FILE);
            WavFiles.write(sound, audio.sampleRate(), wav);
            List<Predictions.Prediction> top = Predictions.topK(result.logits().get("label").select(0, 0).toArray(), topK,
                    config::label);
            if (args.has("json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("frames", frames.stream().map(Path::toString).toList());
                o.put("audio", wav.toString());
                o.put("sample_rate", audio.sampleRate());
                o.put("samples", sound.size());
                o.put("top", Predictions.json(top));
                out.println(Json.write(o));
            } else {
                out.printf("video   %d frames of %dx%d: %s ... %s%n", frames.size(), shape.get(3), shape.get(2),
                        frames.getFirst(), frames.getLast().getFileName());
                out.printf("audio   %d samples at %d Hz: %s%n", sound.size(), audio.sampleRate(), wav);
                out.println("label");
                top.forEach(p -> out.println("  " + p.line()));
            }
        }
        return Main.OK;
    }

    /** The frames as [1, T, 3, H, W]: num_frames of them, each of the size the model reconstructs. */
    private static Tensor readVideo(Path dir, PerceiverConfig config, Arena arena) throws IOException {
        List<Integer> shape = config.outputShape();
        int frames = config.numFrames(), height = shape.get(2), width = shape.get(3);
        Tensor video;
        try {
            List<Path> files = VideoFiles.listFrames(dir);
            if (files.size() != frames)
                throw new InvalidInputException(dir + " has " + files.size() + " frame images; this model takes num_frames "
                        + frames + " frames of " + width + "x" + height);
            video = VideoFiles.readFrames(files, arena);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidInputException(e.getMessage());
        }
        if (video.dim(3) != height || video.dim(4) != width)
            throw new InvalidInputException(dir + ": frames are " + video.dim(4) + "x" + video.dim(3) + "; this model takes "
                    + width + "x" + height + " frames (output_shape " + shape + ")");
        return video;
    }

    /** Mono samples [1, samples, 1]: the file's, padded with zeros or cut to the model's length (saying so). */
    private static WavFiles.Audio readAudio(Path file, int samples, boolean quiet, PrintStream err, Arena arena)
            throws IOException {
        WavFiles.Audio audio;
        try {
            audio = WavFiles.read(file, WavFiles.Channels.FIRST, arena);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidInputException(e.getMessage());
        }
        int n = audio.samples().dim(1);
        if (n == samples) return audio;
        if (!quiet)
            err.printf("perceiver autoencode: %s has %d samples, the model takes %d: %s%n", file, n, samples,
                    n < samples ? "padded with " + (samples - n) + " zeros" : "cut after " + samples);
        Tensor fitted = Tensor.zeros(arena, 1, samples, 1);
        int keep = Math.min(n, samples);
        fitted.slice(1, 0, keep).copyFrom(audio.samples().slice(1, 0, keep));
        return new WavFiles.Audio(fitted, audio.sampleRate());
    }
}
