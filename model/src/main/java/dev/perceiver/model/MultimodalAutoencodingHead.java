package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.SegmentAllocator;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * PerceiverForMultimodalAutoencoding: inputs.audio, inputs.image (a video) and inputs.label through the multimodal
 * preprocessor ({@code perceiver.input_preprocessor}), the multimodal decoder's queries for the requested output
 * points ({@code perceiver.decoder}), and per modality a linear postprocessor
 * ({@code perceiver.output_postprocessor.modalities.<m>.classifier}): logits.audio [B, samples],
 * logits.image [B, points, 3], logits.label [B, num_labels]. No loss.
 */
final class MultimodalAutoencodingHead implements TaskHead {
    static final Task TASK = Task.AUTOENCODE;
    /** The reference's example decodes the video in this many chunks. */
    private static final int SAMPLE_CHUNKS = 128;
    /** Decoder queries built and decoded at once when every output point is decoded. */
    private static final int QUERY_CHUNK = 8192;
    private static final List<String> SUBSAMPLED = List.of("audio", "image");

    private final Head head;
    private final PerceiverConfig config;
    private final MultimodalPreprocessor preprocessor;
    private final MultimodalDecoder decoder;
    private final Map<String, Linear> outputPostprocessor = new TreeMap<>();

    MultimodalAutoencodingHead(Head head, Weights root, PerceiverConfig config, Activation act) {
        this.head = head;
        this.config = config;
        Weights p = root.at("perceiver");
        this.preprocessor = preprocessor(p.at("input_preprocessor"), config);
        this.decoder = decoder(p.at("decoder"), config, act);
        Weights post = p.at("output_postprocessor").at("modalities");
        outputPostprocessor.put("audio", post.at("audio").linear("classifier", config.outputNumChannels(),
                config.samplesPerPatch()));
        outputPostprocessor.put("image", post.at("image").linear("classifier", config.outputNumChannels(), 3));
        outputPostprocessor.put("label", post.at("label").linear("classifier", config.outputNumChannels(),
                config.numLabels()));
    }

    /**
     * One batch of a random num_frames video with its audio and a zero label, decoding the first 1/128 chunk of the
     * image and audio outputs, as the reference's example does.
     */
    static PerceiverInputs sample(PerceiverConfig c, int batch, SegmentAllocator alloc, SplittableRandom rnd) {
        Map<String, Tensor> m = new TreeMap<>();
        int side = 4 * c.imageSize();
        m.put("image", SampleInputs.normal(alloc, rnd, batch, c.numFrames(), 3, side, side));
        m.put("audio", SampleInputs.normal(alloc, rnd, batch, c.numFrames() * c.audioSamplesPerFrame(), 1));
        m.put("label", Tensor.zeros(alloc, batch, c.numLabels()));
        int imagePoints = c.outputShape().get(1) * c.outputShape().get(2) * c.outputShape().get(3);
        int audioPoints = c.numFrames() * c.audioSamplesPerFrame() / c.samplesPerPatch();
        return PerceiverInputs.ofModalities(m)
                .subsample("image", SampleInputs.range(Math.max(1, imagePoints / SAMPLE_CHUNKS)))
                .subsample("audio", SampleInputs.range(Math.max(1, audioPoints / SAMPLE_CHUNKS)));
    }

    private static MultimodalPreprocessor preprocessor(Weights pre, PerceiverConfig c) {
        int audioSamples = c.numFrames() * c.audioSamplesPerFrame();
        TreeMap<String, ModalityPreprocessor> modalities = new TreeMap<>();
        modalities.put("audio", new AudioPreprocessor(c.samplesPerPatch(), PositionEncoding.fourier(
                new FourierPositionEncoding(192, new int[] {audioSamples}, true, false), null), true));
        modalities.put("image", new ImagePreprocessor(pre.at("modalities").at("image"),
                ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.PATCHES).downsample(4, 1).fourier(
                        new FourierPositionEncoding(32, new int[] {c.numFrames(), c.imageSize(), c.imageSize()}, true, false))));
        modalities.put("label", new OneHotPreprocessor(c.numLabels()));
        return new MultimodalPreprocessor(pre, modalities, Map.of("image", 0.0, "audio", 0.0, "label", 1.0), 4);
    }

    private static MultimodalDecoder decoder(Weights w, PerceiverConfig c, Activation act) {
        int audioSamples = c.numFrames() * c.audioSamplesPerFrame();
        if (c.outputShape().size() != 4)
            throw new IllegalArgumentException("output_shape must be [batch, frames, height, width], got " + c.outputShape());
        int[] video = {c.outputShape().get(1), c.outputShape().get(2), c.outputShape().get(3)};
        Weights mods = w.at("modalities");
        TreeMap<String, BasicDecoder> queries = new TreeMap<>();
        queries.put("audio", new BasicDecoder(mods.at("audio"), c, BasicDecoder.Spec.of(c.outputNumChannels(),
                new int[] {audioSamples / c.samplesPerPatch()}, 128).queriesOnly()
                .fourier(new FourierPositionEncoding(192, new int[] {audioSamples}, true, false)), act));
        queries.put("image", new BasicDecoder(mods.at("image").at("decoder"), c, BasicDecoder.Spec.of(
                c.outputNumChannels(), video, 128).queriesOnly().fourier(new FourierPositionEncoding(32,
                new int[] {c.numFrames(), c.imageSize(), c.imageSize()}, true, false)), act));
        queries.put("label", new BasicDecoder(mods.at("label").at("decoder"), c, BasicDecoder.Spec.of(c.numLabels(),
                new int[] {1}, 128).queriesOnly().trainable(c.labelTrainableNumChannels()), act));
        return new MultimodalDecoder(w, queries, 2, channels -> new BasicDecoder(w.at("decoder"), c,
                BasicDecoder.Spec.of(c.outputNumChannels(), null, channels).withoutPositionEncoding()
                        .attention(null, null, 1, false), act));
    }

    @Override
    public int kvDim() {
        return preprocessor.numChannels();
    }

    @Override
    public void check(PerceiverInputs in) {
        TaskHead.refuseLabels(head, in);
        TaskHead.refuseInterpolation(head, in, "");
    }

    @Override
    public Preprocessed preprocess(Run run, PerceiverInputs in) {
        if (in.modalities().isEmpty())
            throw new InvalidInputException("inputs: the multimodal model takes inputs.audio, inputs.image and inputs.label");
        Map<String, Tensor> modalities = new TreeMap<>();
        in.modalities().forEach((m, t) -> modalities.put(m, run.shared(t)));
        return preprocessor.apply(run, modalities);
    }

    /**
     * Decodes the requested output points (all of them when none are given, in chunks of queries so memory stays
     * bounded; each query attends independently, so chunking does not change results).
     */
    @Override
    public Map<String, Tensor> decode(Run run, Preprocessed pre, Tensor z, PerceiverInputs in) {
        int batch = z.dim(0);
        Map<String, long[]> points = points(in.subsampledOutputPoints());
        long[] audio = points.get("audio"), image = points.get("image");
        int spp = config.samplesPerPatch();
        Tensor audioOut = run.result(batch, audio.length * spp), imageOut = run.result(batch, image.length, 3);
        Tensor labelOut = run.result(batch, config.numLabels());
        int total = audio.length + image.length + 1;
        int chunk = run.outputAttentions ? total : QUERY_CHUNK;
        for (int s = 0; s < total; s += chunk) {
            int e = Math.min(total, s + chunk);
            int a0 = Math.min(s, audio.length), a1 = Math.min(e, audio.length);
            int i0 = Math.clamp(s - audio.length, 0, image.length), i1 = Math.clamp(e - audio.length, 0, image.length);
            boolean label = e == total;
            Map<String, long[]> chunkPoints = new TreeMap<>();
            chunkPoints.put("audio", Arrays.copyOfRange(audio, a0, a1));
            chunkPoints.put("image", Arrays.copyOfRange(image, i0, i1));
            long mark = run.scratch().mark();
            Tensor decoded = run.stage("decoder", () -> {
                Tensor q = decoder.query(run, batch, chunkPoints, pre.withoutPos());
                if (!label) q = q.slice(1, 0, q.dim(1) - 1).copy(run.scratch());
                return decoder.decoder.forward(run, q, z);
            });
            run.stage("postprocess", () -> {
                for (int b = 0; b < batch; b++) {
                    Matrix rows = decoded.select(0, b).matrix();
                    int na = a1 - a0, ni = i1 - i0;
                    outputPostprocessor.get("audio").apply(run, rows.rows(0, na),
                            audioOut.select(0, b).reshape(-1, spp).matrix().rows(a0, a1));
                    outputPostprocessor.get("image").apply(run, rows.rows(na, na + ni),
                            imageOut.select(0, b).matrix().rows(i0, i1));
                    if (label) outputPostprocessor.get("label").apply(run, rows.rows(na + ni, na + ni + 1),
                            labelOut.select(0, b).reshape(1, -1).matrix());
                }
                return null;
            });
            run.scratch().release(mark);
            in.progress().decoded(e, total);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("audio", audioOut);
        out.put("image", imageOut);
        out.put("label", labelOut);
        return out;
    }

    /** The audio and image points to decode: those requested, or every one when none are. */
    private Map<String, long[]> points(Map<String, long[]> requested) {
        Map<String, long[]> points = new TreeMap<>();
        if (requested.isEmpty()) {
            for (String m : SUBSAMPLED)
                points.put(m, BasicDecoder.allPoints(decoder.modalities.get(m).spec.outputIndexDims()));
            return points;
        }
        for (String m : SUBSAMPLED)
            if (!requested.containsKey(m))
                throw new InvalidInputException("subsampled_output_points." + m + " is missing (give audio and image points, or none to decode all)");
        for (String m : requested.keySet())
            if (!List.of("audio", "image", "label").contains(m))
                throw new InvalidInputException("subsampled_output_points." + m + ": no such output modality");
        for (String m : SUBSAMPLED) points.put(m, requested.get(m));
        return points;
    }
}
