package dev.perceiver.runtime;

import java.util.Arrays;

/** A small integer tensor on the heap (token ids, indices, class labels): values row-major plus a shape. */
public record LongTensor(long[] data, int[] shape) {

    public LongTensor {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        if (n != data.length)
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Arrays.toString(shape));
    }

    public static LongTensor of(long[] data, int... shape) {
        return new LongTensor(data, shape);
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int d) {
        return shape[d < 0 ? shape.length + d : d];
    }

    public long get(int... idx) {
        long o = 0;
        for (int i = 0; i < idx.length; i++) o = o * shape[i] + idx[i];
        return data[(int) o];
    }

    @Override
    public String toString() {
        return "LongTensor" + Arrays.toString(shape);
    }
}
