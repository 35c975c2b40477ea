package dev.perceiver.cli;

import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.RgbImage;
import dev.perceiver.io.VideoFiles;
import dev.perceiver.io.WavFiles;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.Autoencoder;
import dev.perceiver.task.Prediction;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * perceiver autoencode: the multimodal model's reconstruction of a video with its audio, and its label guesses, one
 * chunk of num_frames frames at a time.
 */
final class AutoencodeCommand implements Command {
    static final String AUDIO_FILE = "audio.wav";

    @Override
    public String name() {
        return Task.AUTOENCODE.command();
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
                BMP or GIF, in file-name order) and its sound as a WAV file (8/16/24/32-bit PCM or 32/64-bit float;
                the first channel of a stereo file; a streamed file with no data length is read to its end, with a
                warning). The model takes num_frames frames of the size it reconstructs
                (output_shape: 16 frames of 224x224 for deepmind/multimodal-perceiver) with num_frames x
                audio_samples_per_frame samples of sound (30720); a longer video is taken that many frames at a
                time, so its frame count must be a multiple of num_frames. The audio should have as many samples
                per chunk and is padded with zeros or cut to the clip's length otherwise. The label input is zeros
                (the model masks it anyway).
                It streams: each chunk is read, run and written before the next is read, so memory does not grow
                with the clip, and every output point of a chunk is decoded in pieces of bounded memory. Writes the
                reconstructed frames as DIR/frame_00000.png, ... (numbered through the clip) and the audio as
                DIR/audio.wav (16-bit, at the input's sample rate), and prints each chunk's K most likely labels
                (softmax of the label logits, names from id2label). A chunk whose frames cannot be read gets an
                error line and silence in audio.wav (later chunks stay in time); the other chunks still run.

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin
                  --video DIR       the frames
                  --audio FILE      the sound track
                  --out DIR         where to write the reconstruction (created if missing; its parent must exist)
                  --top-k K         labels to show (default 5)
                  --json            a JSON object a line per chunk: chunk, frames, audio, sample_rate, samples
                                    (the chunk's), top
                  --threads N       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                  --quiet           no progress line or notes
                """ + BatchRun.FLAGS_HELP.replace("input", "chunk");
    }

    @Override
    public Set<String> flags() {
        return BatchRun.flagsWith("json");
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
        List<Path> files = badInput(() -> VideoFiles.listFrames(videoDir));
        try (Autoencoder model = Autoencoder.of(ModelArgs.load(args, Task.AUTOENCODE));
             WavFiles.Reader audio = badInput(() -> WavFiles.open(audioFile, WavFiles.Channels.FIRST))) {
            int frames = model.frames();
            if (files.size() % frames != 0)
                throw new InvalidInputException(videoDir + " has " + files.size() + " frame images; this model takes num_frames "
                        + frames + " frames of " + frameSize(model) + " at a time: give a multiple of " + frames);
            // The usual mistake, frames of another size, fails the run at once rather than every chunk.
            RgbImage first = ImageFiles.readInput(files.getFirst());
            model.requireFrameSize(videoDir.toString(), first.width(), first.height());
            int chunks = files.size() / frames;
            long clipSamples = (long) chunks * model.samples();
            if (audio.samples() != clipSamples && !quiet)
                err.printf("perceiver autoencode: %s has %d samples, the model takes %d: %s%n", audioFile, audio.samples(),
                        clipSamples, audio.samples() < clipSamples ? "padded with " + (clipSamples - audio.samples()) + " zeros"
                                : "cut after " + clipSamples);
            Files.createDirectories(outDir);
            Path wav = outDir.resolve(AUDIO_FILE);
            try (WavFiles.Writer sound = WavFiles.create(wav, audio.sampleRate())) {
                BatchRun run = new BatchRun(name(), "chunks", chunks, args, out, err);
                Clip clip = new Clip(model, files, videoDir, audio, sound, outDir, wav, topK, run);
                for (int c = 0; c < chunks && !run.stopped(); c++) clip.chunk(c);
                return run.finish();
            }
        }
    }

    /** width x height of the frames model reconstructs. */
    private static String frameSize(Autoencoder model) {
        List<Integer> shape = model.model().config().outputShape();
        return shape.get(3) + "x" + shape.get(2);
    }

    /** A clip on its way through the model, num_frames frames (a chunk) at a time. */
    private record Clip(Autoencoder model, List<Path> files, Path videoDir, WavFiles.Reader audio, WavFiles.Writer sound,
                        Path outDir, Path wav, int topK, BatchRun run) {
        /** Reads, runs and writes chunk c; its memory is freed before the next. */
        void chunk(int c) throws IOException {
            int frames = model.frames();
            try (Arena arena = Arena.ofConfined(); Arena results = Arena.ofShared()) {
                Tensor input = audio.read(model.samples(), arena), video;
                try {
                    video = badInput(() -> VideoFiles.readFrames(files.subList(c * frames, (c + 1) * frames), arena));
                    model.requireFrameSize(videoDir.toString(), video.dim(4), video.dim(3));
                } catch (InvalidInputException e) {
                    sound.write(Tensor.zeros(arena, model.samples()));
                    run.error("chunk", c, e.getMessage());
                    return;
                }
                Autoencoder.Reconstruction r = model.autoencode(video, input, topK, results, (done, total) ->
                        run.working(String.format(Locale.ROOT, "decoding %d%%", done * 100 / total)));
                List<Path> written = VideoFiles.writeFrames(r.frames(), outDir, c * frames);
                sound.write(r.audio());
                report(c, written, r.audio().size(), r.labels());
            }
        }

        private void report(int c, List<Path> written, long samples, List<Prediction> top) {
            int chunks = files.size() / written.size();
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("chunk", c);
            o.put("frames", written.stream().map(Path::toString).toList());
            o.put("audio", wav.toString());
            o.put("sample_rate", audio.sampleRate());
            o.put("samples", samples);
            o.put("top", Predictions.json(top));
            StringBuilder text = new StringBuilder();
            if (chunks > 1)
                text.append(String.format("chunk   %d of %d: frames %d-%d%n", c + 1, chunks, c * written.size(),
                        (c + 1) * written.size() - 1));
            text.append(String.format("video   %d frames of %s: %s ... %s%n", written.size(), frameSize(model),
                    written.getFirst(), written.getLast().getFileName()));
            text.append(String.format("audio   %d samples at %d Hz: %s%n", samples, audio.sampleRate(), wav));
            text.append(String.format("label%n"));
            top.forEach(p -> text.append(String.format("  %s%n", Predictions.line(p))));
            run.result(text.toString(), o, "");
        }
    }

    /** Reading that may fail on the input's contents; such a failure is bad input (exit code 4), a missing file too. */
    private interface Read<T> {
        T get() throws IOException;
    }

    private static <T> T badInput(Read<T> read) {
        try {
            return read.get();
        } catch (IOException e) {
            throw new InvalidInputException(e instanceof NoSuchFileException ? PathChecks.describe(e) : e.getMessage());
        }
    }
}
