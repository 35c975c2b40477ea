package dev.perceiver.spark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/** A partition's rows in batches: pulls up to size rows, maps them together, hands back the results one by one. */
final class Batches<I, O> implements Iterator<O> {
    private final Iterator<I> in;
    private final int size;
    private final Function<List<I>, List<O>> map;
    private Iterator<O> current = Collections.emptyIterator();

    private Batches(Iterator<I> in, int size, Function<List<I>, List<O>> map) {
        this.in = in;
        this.size = size;
        this.map = map;
    }

    /** Lazily, as Spark pulls results, so a partition never holds more than one batch of inputs and results. */
    static <I, O> Iterator<O> map(Iterator<I> in, int size, Function<List<I>, List<O>> map) {
        return new Batches<>(in, size, map);
    }

    @Override
    public boolean hasNext() {
        while (!current.hasNext() && in.hasNext()) {
            List<I> batch = new ArrayList<>(size);
            while (batch.size() < size && in.hasNext()) batch.add(in.next());
            current = map.apply(batch).iterator();
        }
        return current.hasNext();
    }

    @Override
    public O next() {
        if (!hasNext()) throw new NoSuchElementException();
        return current.next();
    }
}
