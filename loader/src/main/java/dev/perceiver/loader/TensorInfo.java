package dev.perceiver.loader;

import java.util.Arrays;

/** A stored tensor's name, element type, shape and where its bytes are in the file. */
public record TensorInfo(String name, DType dtype, long[] shape, long byteOffset, long byteLength) {

    public long elements() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** The shape as ints (every Perceiver tensor dimension fits). */
    public int[] intShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(shape[i]);
        return s;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
