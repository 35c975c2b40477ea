package dev.perceiver.ops;

/** Sizes of one multi-head attention call, checked once for every implementation. */
record AttentionShape(int nq, int nk, int heads, int dqk, int dv) {

    static AttentionShape of(Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out, Matrix probs,
                             Matrix lse) {
        if (heads <= 0) throw new IllegalArgumentException("attention needs at least one head, got " + heads);
        if (q.cols() % heads != 0 || v.cols() % heads != 0)
            throw new IllegalArgumentException("attention: " + q.cols() + " query and " + v.cols()
                    + " value channels do not split into " + heads + " heads");
        if (k.cols() != q.cols())
            throw new IllegalArgumentException("attention: keys have " + k.cols() + " channels, queries " + q.cols());
        if (v.rows() != k.rows())
            throw new IllegalArgumentException("attention: " + k.rows() + " keys but " + v.rows() + " values");
        Matrix.requireShape(out, q.rows(), v.cols(), "attention output");
        if (maskBias != null) Matrix.requireShape(maskBias, 1, k.rows(), "attention mask");
        if (probs != null) Matrix.requireShape(probs, heads * q.rows(), k.rows(), "attention probabilities");
        if (lse != null) Matrix.requireShape(lse, heads * q.rows(), 1, "attention log-sum-exp");
        return new AttentionShape(q.rows(), k.rows(), heads, q.cols() / heads, v.cols() / heads);
    }
}
