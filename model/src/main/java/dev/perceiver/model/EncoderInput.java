package dev.perceiver.model;

import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.util.List;

/**
 * The encoder's keys/values input [B, N, C]: a whole tensor, or, where its layout knows every fixed channel (a Fourier
 * grid's features, padding, mask tokens: {@link InputLayout.Segment#knowsFixed}), only each segment's varying channels,
 * whole rows being built a block at a time where they are needed. The multimodal input is 52,097 x 704 floats (139
 * MB), of which 50,176 x 48 vary.
 */
final class EncoderInput {
    private final int batch, tokens, channels;
    private final InputLayout layout;
    /** Each segment's varying channels [B, tokens, variable] (null where none vary); null for a whole tensor. */
    private final Tensor[] varying;
    /** The whole input: given, or built on first use from varying. */
    private Tensor whole;

    private EncoderInput(int batch, int tokens, int channels, InputLayout layout, Tensor[] varying, Tensor whole) {
        this.batch = batch;
        this.tokens = tokens;
        this.channels = channels;
        this.layout = layout;
        this.varying = varying;
        this.whole = whole;
    }

    /** inputs [B, N, C] as they are, laid out as layout says (null when unknown). */
    static EncoderInput of(Tensor inputs, InputLayout layout) {
        return new EncoderInput(inputs.dim(0), inputs.dim(1), inputs.dim(2), layout, null, inputs);
    }

    /**
     * An input of channels whose segments' fixed channels the layout knows, from their varying channels (one tensor
     * [B, tokens, variable] per segment, null where none vary).
     */
    static EncoderInput ofVarying(int batch, int channels, InputLayout layout, List<Tensor> varying) {
        List<InputLayout.Segment> segments = layout.segments();
        for (InputLayout.Segment s : segments)
            if (!s.knowsFixed()) throw new IllegalArgumentException("segment " + s + " has fixed channels only an input holds");
        int tokens = segments.isEmpty() ? 0 : segments.getLast().end();
        return new EncoderInput(batch, tokens, channels, layout, varying.toArray(Tensor[]::new), null);
    }

    int batch() {
        return batch;
    }

    int tokens() {
        return tokens;
    }

    int channels() {
        return channels;
    }

    InputLayout layout() {
        return layout;
    }

    /** Whether the whole input can be built from the layout and the varying channels (which are then all it keeps). */
    boolean fromVarying() {
        return varying != null;
    }

    /** Segment si's varying channels, [B, tokens of the segment, variable], or null where none vary. */
    Tensor varying(int si) {
        InputLayout.Segment s = layout.segments().get(si);
        if (varying != null) return varying[si];
        return s.variable() == 0 ? null : whole.slice(1, s.start(), s.end()).slice(2, 0, s.variable());
    }

    /** Segment si's varying channels of batch item b, [tokens of the segment, variable], or null where none vary. */
    Matrix varying(int b, int si) {
        Tensor v = varying(si);
        return v == null ? null : v.select(0, b).matrix();
    }

    /** The whole input, built once in run's scratch memory where only the varying channels are kept. */
    Tensor tensor(Run run) {
        if (whole == null) {
            Tensor t = run.tensor(batch, tokens, channels);
            for (int b = 0; b < batch; b++) writeRows(run, b, 0, tokens, t.select(0, b).matrix());
            whole = t;
        }
        return whole;
    }

    /** Rows [from, to) of batch item b: a view of the whole input, or built into run's scratch memory. */
    Matrix rows(Run run, int b, int from, int to) {
        if (whole != null) return whole.select(0, b).matrix().rows(from, to);
        Matrix out = run.matrix(to - from, channels);
        writeRows(run, b, from, to, out);
        return out;
    }

    /** Rows [from, to) of item b from the varying channels and the layout: varying ‖ grid features ‖ constants. */
    private void writeRows(Run run, int b, int from, int to, Matrix out) {
        List<InputLayout.Segment> segments = layout.segments();
        for (int si = 0; si < segments.size(); si++) {
            InputLayout.Segment s = segments.get(si);
            int a = Math.max(from, s.start()), e = Math.min(to, s.end());
            if (a >= e) continue;
            Matrix v = varying(b, si);
            int vc = s.variable(), gc = s.grid() == null ? 0 : s.grid().channels();
            run.parallel().forRange(e - a, 64, (r0, r1) -> {
                float[] row = new float[channels];
                System.arraycopy(s.constants(), 0, row, vc + gc, s.constants().length);
                for (int r = a + r0; r < a + r1; r++) {
                    if (vc > 0) v.copyRow(r - s.start(), row, 0);
                    if (gc > 0) s.grid().point(r - s.start(), row, vc);
                    out.setRow(r - from, row, 0);
                }
            });
        }
    }
}
