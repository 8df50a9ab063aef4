package ai.chunkwise.train.model;

import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.engine.SecoEngine;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SameDiff's sessions keep nothing growing from one training step to the next (issue #11, memory): the freed-array
 * ids are gone after each call, the array cache holds as many arrays after many steps as after the first few, and
 * reusing cached arrays leaves the gradients bit-identical.
 */
class SessionMemoryTest {
    private static final int WARM_UP = 2;
    private static final int STEPS = 8;

    @Test
    void sessionsDoNotGrowOverStepsAndGradientsStayTheSame() throws Exception {
        LlamaConfig config = RandomLlama.config(2, 32, 4, 2, 48, 61, false, null);
        LlamaModel model = new LlamaModel(config, RandomLlama.weights(config, 1), null, DataType.FLOAT, 1);
        model.setNativeMemoryCollectionThreshold(Long.MAX_VALUE);   // no System.gc(): not what is tested, and slow
        Batch batch = Batch.of(RandomLlama.tokens(1, 32, config.vocabSize(), 7));
        GradientEngine seco = new SecoEngine(model, 16);   // 2 chunks: forward and backward calls, with a past

        Map<String, double[]> first = copy(seco.compute(batch).gradients());
        for (int i = 1; i < WARM_UP; i++) {
            seco.compute(batch);
        }
        List<InferenceSession> sessions = sessions(model);
        assertEquals(6, sessions.size(), "a forward and a gradient session for each of the 3 layer graphs");
        long cachedAfterWarmUp = cachedArrays(sessions);
        Map<String, double[]> last = null;
        int mostFreedIdsBetweenSteps = 0;
        long mostCached = cachedAfterWarmUp;
        for (int i = 0; i < STEPS; i++) {
            last = copy(seco.compute(batch).gradients());
            for (InferenceSession s : sessions) {
                mostFreedIdsBetweenSteps = Math.max(mostFreedIdsBetweenSteps, freedArrayIds(s));
            }
            mostCached = Math.max(mostCached, cachedArrays(sessions));
        }
        long cachedAtEnd = cachedArrays(sessions);
        long cachedAtMost = mostCached;
        Map<String, double[]> lastGradients = last;
        int freedIds = mostFreedIdsBetweenSteps;
        assertAll(
                () -> assertEquals(0, freedIds, "freed-array ids left in a session between steps"),
                () -> assertEquals(cachedAfterWarmUp, cachedAtEnd,
                        "arrays cached after " + WARM_UP + " steps vs after " + (WARM_UP + STEPS)),
                () -> assertEquals(cachedAfterWarmUp, cachedAtMost,
                        "most arrays cached after any of steps " + (WARM_UP + 1) + "-" + (WARM_UP + STEPS)),
                () -> assertEquals(first.keySet(), lastGradients.keySet()),
                () -> {
                    for (String name : first.keySet()) {
                        assertArrayEquals(first.get(name), lastGradients.get(name), 0.0,
                                name + ": step 1 vs step " + (WARM_UP + STEPS));
                    }
                });
    }

    @Test
    void cacheKeepsOnlyWhatItCanHandOutAgain() {
        SessionArrayCache cache = new SessionArrayCache();
        INDArray scalar = Nd4j.scalar(DataType.FLOAT, 1f);
        cache.release(scalar);
        cache.release(Nd4j.create(DataType.FLOAT, 4, 0));
        cache.release(Nd4j.create(DataType.FLOAT, 4, 6).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)));
        assertEquals(0, cache.size(), "a scalar, an empty array and a view are not kept");

        INDArray a = Nd4j.create(DataType.FLOAT, 3, 5);
        long id = a.getId();
        cache.release(a);
        cache.release(a);
        assertEquals(1, cache.size(), "an array handed back twice is kept once");
        assertEquals(60, cache.bytes());
        assertNotSame(a, cache.allocate(false, DataType.FLOAT, 5, 3), "another shape gets a new array");
        assertNotSame(a, cache.allocate(false, DataType.DOUBLE, 3, 5), "another data type gets a new array");
        INDArray again = cache.allocate(false, DataType.FLOAT, 3, 5);
        assertSame(a, again);
        assertTrue(again.getId() != id, "a reused array gets a new id");
        assertEquals(0, cache.size());
        assertEquals(0, cache.bytes());

        for (int i = 0; i < SessionArrayCache.MAX_ARRAYS + 10; i++) {
            cache.release(Nd4j.create(DataType.FLOAT, 2, 2));
        }
        assertEquals(SessionArrayCache.MAX_ARRAYS, cache.size(), "bounded in count, oldest dropped first");
        assertEquals(SessionArrayCache.MAX_ARRAYS * 16L, cache.bytes());
        cache.close();
        assertEquals(0, cache.size());
    }

    @Test
    void byteBoundFollowsTheLargestArrayWithinItsLimits() {
        long mib = 1L << 20;
        SessionArrayCache cache = new SessionArrayCache();
        assertEquals(64 * mib, cache.bytesBound(), "nothing released yet: the floor");
        for (int i = 0; i < 20; i++) {
            cache.release(Nd4j.create(DataType.FLOAT, 1024, 1024));   // 4 MiB each: 8x is below the floor
        }
        assertEquals(64 * mib, cache.bytesBound());
        assertEquals(16, cache.size(), "the oldest 4 MiB arrays were dropped to stay within 64 MiB");
        assertEquals(64 * mib, cache.bytes());

        cache.release(Nd4j.create(DataType.FLOAT, 3, 1024, 1024));   // 12 MiB: the bound becomes 8 x 12 MiB
        assertEquals(96 * mib, cache.bytesBound());
        assertEquals(17, cache.size(), "nothing dropped: 76 MiB fits the raised bound");

        cache.release(Nd4j.create(DataType.FLOAT, 10, 1024, 1024));  // 40 MiB: 8x would be 320 MiB
        assertEquals(256 * mib, cache.bytesBound(), "capped");
        assertEquals(116 * mib, cache.bytes());
        cache.close();
        assertEquals(0, cache.bytes());
    }

    private static List<InferenceSession> sessions(LlamaModel model) {
        List<InferenceSession> all = new ArrayList<>();
        for (SameDiff graph : model.graphs()) {
            all.addAll(graph.getSessions().values());
            all.addAll(graph.getFunction("grad").getSessions().values());
        }
        return all;
    }

    /** Works on SameDiff's own session too, so that this test fails on M2.1's behaviour. */
    private static int freedArrayIds(InferenceSession session) throws ReflectiveOperationException {
        Field f = InferenceSession.class.getDeclaredField("freedArrays");
        f.setAccessible(true);
        return ((Set<?>) f.get(session)).size();
    }

    private static long cachedArrays(List<InferenceSession> sessions) {
        long n = 0;
        for (InferenceSession s : sessions) {
            SessionMemMgr m = s.getMmgr();
            n += m instanceof SessionArrayCache c ? c.size() : ((ArrayCacheMemoryMgr) m).getLruCache().size();
        }
        return n;
    }

    private static Map<String, double[]> copy(Map<String, INDArray> gradients) {
        Map<String, double[]> out = new java.util.TreeMap<>();
        gradients.forEach((name, g) -> out.put(name, g.dup().data().asDouble()));
        return out;
    }
}
