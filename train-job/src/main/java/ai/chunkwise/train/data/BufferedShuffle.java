package ai.chunkwise.train.data;

import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A bounded shuffle buffer (as tf.data's and Hugging Face's streaming {@code shuffle(buffer_size)}, MosaicML
 * Streaming's shuffle block): fill up to {@code capacity} items from the input, then emit a uniformly drawn item
 * and put the next input item in its place; drain in random order once the input ends. Capacity 1 passes the
 * input through unchanged. The output is a function of the input sequence and the random generator's seed alone,
 * which is what lets a resumed run re-create the buffer by replaying the draws on row <em>references</em>
 * ({@link #map}) without reading the rows again.
 */
final class BufferedShuffle<T> {
    private final Object[] buffer;
    private final SplittableRandom random;
    private int size;
    private boolean inputDone;

    BufferedShuffle(int capacity, SplittableRandom random) {
        if (capacity < 1) {
            throw new IllegalArgumentException("shuffle buffer capacity must be >= 1, got " + capacity);
        }
        this.buffer = new Object[capacity];
        this.random = random;
    }

    private BufferedShuffle(Object[] buffer, SplittableRandom random, int size, boolean inputDone) {
        this.buffer = buffer;
        this.random = random;
        this.size = size;
        this.inputDone = inputDone;
    }

    /** The next item, or null once the input (which returns null at its end) and the buffer are exhausted. */
    @SuppressWarnings("unchecked")
    T next(Supplier<T> input) {
        while (!inputDone && size < buffer.length) {
            T t = input.get();
            if (t == null) {
                inputDone = true;
            } else {
                buffer[size++] = t;
            }
        }
        if (size == 0) {
            return null;
        }
        int j = random.nextInt(size);
        T out = (T) buffer[j];
        T replacement = inputDone ? null : input.get();
        if (replacement != null) {
            buffer[j] = replacement;
        } else {
            inputDone = true;
            buffer[j] = buffer[size - 1];
            buffer[--size] = null;
        }
        return out;
    }

    /** The same buffer state (contents in place, generator, input end) with every item converted. */
    @SuppressWarnings("unchecked")
    <U> BufferedShuffle<U> map(Function<T, U> convert) {
        Object[] converted = new Object[buffer.length];
        for (int i = 0; i < size; i++) {
            converted[i] = convert.apply((T) buffer[i]);
        }
        return new BufferedShuffle<>(converted, random, size, inputDone);
    }

    /** The items now held (in buffer order), e.g. the row references a resumed run must read again. */
    @SuppressWarnings("unchecked")
    java.util.List<T> contents() {
        java.util.List<T> out = new java.util.ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add((T) buffer[i]);
        }
        return out;
    }
}
