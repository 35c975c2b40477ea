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
     * grid.channels() are its Fourier features of the token's index within the segment and the rest are the same in
     * every token (padding), so the fixed channels' work can be done per axis of the grid.
     */
    record Segment(int start, int end, int variable, FourierPositionEncoding.Grid grid) {
        Segment(int start, int end, int variable) {
            this(start, end, variable, null);
        }
    }

    /** Every channel of n tokens varies (but the layout may still be combined with fixed ones). */
    static InputLayout allVariable(Object key, int n, int channels) {
        return new InputLayout(key, List.of(new Segment(0, n, channels)));
    }
}
