package dev.perceiver.model;

import java.util.List;

/**
 * Which channels of a preprocessed input [B, N, C] change from pass to pass. In the tokens of each segment, channels
 * [0, variable) come from the input and channels [variable, C) are the same on every pass with this layout's key:
 * position features, padding, mask tokens. The encoder precomputes what it can of those.
 */
record InputLayout(Object key, List<Segment> segments) {

    /**
     * Tokens [start, end), whose first {@code variable} channels depend on the input. With a grid, the next
     * grid.channels() are its Fourier features of the token's index within the segment. With constants, the channels
     * after those are constants, the same in every token (padding, a mask token), so the whole row is known from its
     * varying channels; without (null), the fixed channels are only in the input (a trainable position table).
     */
    record Segment(int start, int end, int variable, FourierPositionEncoding.Grid grid, float[] constants) {
        Segment {
            if (grid != null && constants == null)
                throw new IllegalArgumentException("a grid segment's channels after the grid must be given");
        }

        /** Whether every fixed channel is known without the input: its grid's features, then its constants. */
        boolean knowsFixed() {
            return constants != null;
        }
    }

    /** Every channel of n tokens varies (but the layout may still be combined with fixed ones). */
    static InputLayout allVariable(Object key, int n, int channels) {
        return new InputLayout(key, List.of(new Segment(0, n, channels, null, new float[0])));
    }
}
