package ai.chunkwise.train.model;

import org.nd4j.autodiff.samediff.internal.memory.AbstractMemoryMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.BaseNDArray;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The memory manager of a SameDiff session ({@link CallScopedSession}): arrays the session hands back are kept
 * for a later request of the same data type and shape, within {@link #bytesBound()} and {@link #MAX_ARRAYS},
 * the least recently released dropped first.
 *
 * <p>Why not M2.1's {@code ArrayCacheMemoryMgr}: it caches every released array, but its allocation of op outputs
 * never takes a scalar (rank 0) or empty array from the cache, and its only bound is bytes, so the scalars of
 * every call piled up for the whole run (docs/dl4j-m2.1.md). Here what can never be handed out again (scalars, empty arrays, views) is not kept,
 * and an evicted array is found by identity (M2.1's {@code List.remove} compares contents).
 */
final class SessionArrayCache extends AbstractMemoryMgr {
    /**
     * The byte bound follows the largest array the session has handed back: {@link #LARGEST_ARRAY_MULTIPLE} times
     * it, between these two. A fixed 64 MB bound lowered a 4K SeCO step's peak but made chunks with a long past
     * about 2x slower, since their [heads, chunk, past + chunk] score arrays no longer fit; a fixed 256 MB bound
     * keeps memory a short sequence does not need (docs/performance-archive.md, round 6).
     */
    static final long MIN_BYTES = 64L << 20;
    static final long MAX_BYTES = 256L << 20;
    /** A chunk's call reuses several arrays of the largest size (scores, probabilities and their gradients). */
    static final long LARGEST_ARRAY_MULTIPLE = 8;
    /** Most arrays kept per session, whatever their size. */
    static final int MAX_ARRAYS = 4096;

    private record Key(DataType type, String shape) {
        static Key of(DataType type, long[] shape) {
            return new Key(type, Arrays.toString(shape));
        }
    }

    private final Map<Key, ArrayDeque<INDArray>> free = new HashMap<>();
    /** Every kept array, by id, in release order (ids are unique while an array is kept). */
    private final LinkedHashMap<Long, INDArray> byAge = new LinkedHashMap<>();
    private long bytes;
    private long largestArrayBytes;

    @Override
    public INDArray allocate(boolean detached, DataType dataType, long... shape) {
        INDArray cached = take(Key.of(dataType, shape));
        return cached != null ? cached : Nd4j.createUninitializedDetached(dataType, shape);
    }

    @Override
    public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
        if (descriptor.isEmpty()) {
            INDArray empty = Nd4j.create(descriptor);
            return detached ? empty.detach() : empty;
        }
        // 'c' order whatever the descriptor says, as M2.1's own manager allocates: a reused array is then
        // indistinguishable from a fresh one
        return allocate(detached, descriptor.dataType(), descriptor.getShape());
    }

    @Override
    public void release(INDArray array) {
        if (byAge.get(array.getId()) == array) {
            return;   // already kept: handed back twice (M2.1's manager throws; nothing to do here)
        }
        if (!reusable(array)) {
            if (array.closeable()) {
                array.close();
            }
            return;
        }
        long size = sizeOf(array);
        largestArrayBytes = Math.max(largestArrayBytes, size);
        long bound = bytesBound();
        if (size > bound) {
            array.close();
            return;
        }
        while (!byAge.isEmpty() && (bytes + size > bound || byAge.size() >= MAX_ARRAYS)) {
            evictOldest();
        }
        free.computeIfAbsent(Key.of(array.dataType(), array.shape()), k -> new ArrayDeque<>())
                .addLast(array);
        byAge.put(array.getId(), array);
        bytes += size;
    }

    /** Most bytes of arrays kept now: a multiple of the largest array released so far, within fixed limits. */
    long bytesBound() {
        return Math.min(MAX_BYTES, Math.max(MIN_BYTES, LARGEST_ARRAY_MULTIPLE * largestArrayBytes));
    }

    /** Arrays kept now. */
    int size() {
        return byAge.size();
    }

    /** Bytes of the arrays kept now. */
    long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        while (!byAge.isEmpty()) {
            evictOldest();
        }
    }

    /**
     * Only what a later allocation can take over as if it were fresh: whole, owned, 'c'-ordered arrays of rank >= 1
     * with elements, whose buffer nothing else uses (SameDiff never asks the cache for a scalar).
     */
    private static boolean reusable(INDArray a) {
        return a.rank() > 0 && !a.isEmpty() && a.length() > 0 && !a.isView() && a.closeable()
                && a.ordering() == 'c' && a.dataType() != DataType.UTF8
                && a.offset() == 0 && a.data().length() == a.length()
                && Nd4j.getExecutioner().useCount(a.data()) <= 1;
    }

    private INDArray take(Key key) {
        ArrayDeque<INDArray> arrays = free.get(key);
        if (arrays == null) {
            return null;
        }
        INDArray a = arrays.pollFirst();   // never null: an emptied deque leaves the map
        if (arrays.isEmpty()) {
            free.remove(key);
        }
        byAge.remove(a.getId());
        bytes -= sizeOf(a);
        if (a.wasClosed()) {
            return null;
        }
        // a new id: the session tells arrays apart by id, and this one is a new array to it
        ((BaseNDArray) a).assignNewId();
        return a;
    }

    private void evictOldest() {
        Iterator<Map.Entry<Long, INDArray>> oldest = byAge.entrySet().iterator();
        INDArray a = oldest.next().getValue();
        oldest.remove();
        bytes -= sizeOf(a);
        Key key = Key.of(a.dataType(), a.shape());
        ArrayDeque<INDArray> arrays = free.get(key);
        if (arrays != null) {
            arrays.removeIf(x -> x == a);   // by identity: INDArray.equals compares contents
            if (arrays.isEmpty()) {
                free.remove(key);
            }
        }
        if (a.closeable()) {
            a.close();
        }
    }

    private static long sizeOf(INDArray a) {
        return a.length() * a.dataType().width();
    }
}
