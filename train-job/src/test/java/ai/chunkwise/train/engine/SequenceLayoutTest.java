package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.ChunkInput;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hand-computed positions, targets, weights, segments and past starts of small batches. */
class SequenceLayoutTest {

    @Test
    void plainRowsPredictTheNextTokenWithWeightOneOverN() {
        SequenceLayout layout = new SequenceLayout(Batch.of(new long[][]{{5, 6, 7, 8, 9}, {1, 2, 3, 4, 10}}));
        assertEquals(8, layout.predictedTokens());
        assertEquals(0, layout.pastStart(3));
        ChunkInput c = layout.chunk(3, 5, 0, 1.0);
        assertArrayEquals(new long[]{8, 9}, c.tokens()[0]);
        assertArrayEquals(new int[]{3, 4}, c.positions()[0]);
        assertArrayEquals(new int[]{9, 0}, c.labels()[0]);          // the last position has no target
        assertArrayEquals(new double[]{1.0 / 8, 0}, c.lossWeights()[0], 0.0);
        assertArrayEquals(new int[]{10, 0}, c.labels()[1]);
        assertNull(c.segments());
        ChunkInput first = layout.chunk(0, 3, 0, 2.0);               // SpaCO's 1/q scale
        assertArrayEquals(new int[]{6, 7, 8}, first.labels()[0]);    // label of a chunk's last token: next chunk's first
        assertArrayEquals(new double[]{2.0 / 8, 2.0 / 8, 2.0 / 8}, first.lossWeights()[0], 0.0);
    }

    @Test
    void documentsRestartPositionsAndNeverPredictAcrossABoundary() {
        Batch batch = new Batch(new long[][]{{1, 2, 3, 4, 5, 6, 7, 8}}, null, new int[][]{{0, 3, 6}});
        SequenceLayout layout = new SequenceLayout(batch);
        assertEquals(5, layout.predictedTokens());                   // 7 targets minus those at 3 and 6
        ChunkInput all = layout.chunk(0, 8, 0, 1.0);
        assertArrayEquals(new int[]{0, 1, 2, 0, 1, 2, 0, 1}, all.positions()[0]);
        assertArrayEquals(new int[]{0, 0, 0, 1, 1, 1, 2, 2}, all.segments()[0]);
        double w = 1.0 / 5;
        assertArrayEquals(new double[]{w, w, 0, w, w, 0, w, 0}, all.lossWeights()[0], 0.0);
        assertEquals(3, layout.pastStart(3));                        // document starts on the chunk: no past
        assertEquals(3, layout.pastStart(4));                        // only the current document's keys
        assertEquals(6, layout.pastStart(6));
        ChunkInput c = layout.chunk(4, 6, 3, 1.0);
        assertArrayEquals(new int[]{1, 1, 1}, c.segments()[0]);      // segments cover past [3,4) + chunk [4,6)
    }

    @Test
    void thePastIsKeptWhenOnlySomeRowsStartADocument() {
        Batch batch = new Batch(new long[][]{{1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 6}}, null, new int[][]{{0, 4}, {0}});
        SequenceLayout layout = new SequenceLayout(batch);
        assertEquals(0, layout.pastStart(4));
        Batch both = new Batch(new long[][]{{1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 6}}, null,
                new int[][]{{0, 1, 4}, {2, 4}});
        assertEquals(4, new SequenceLayout(both).pastStart(4));     // both rows start a document at 4
        assertEquals(1, new SequenceLayout(both).pastStart(3));     // row 0's document began at 1, row 1's at 2: min
        assertEquals(0, new SequenceLayout(both).pastStart(1));     // row 1's first "document" is [0, 2)
    }

    @Test
    void aSlidingWindowLimitsThePast() {
        long[][] tokens = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}};
        SequenceLayout window3 = new SequenceLayout(Batch.of(tokens), 3);
        assertEquals(0, window3.pastStart(0));
        assertEquals(0, window3.pastStart(2));                       // query 2 sees keys 0..2
        assertEquals(4, window3.pastStart(6));                       // query 6 sees keys 4..6 only
        assertEquals(0, new SequenceLayout(Batch.of(tokens)).pastStart(6));
        // a document start after the window's start still cuts it
        Batch docs = new Batch(tokens, null, new int[][]{{0, 5}});
        assertEquals(5, new SequenceLayout(docs, 3).pastStart(6));
        assertEquals(6, new SequenceLayout(docs, 3).pastStart(8));
    }

    @Test
    void lossMaskSelectsTargetsAndAnEmptyBatchIsRejected() {
        Batch batch = new Batch(new long[][]{{1, 2, 3, 4}}, new boolean[][]{{true, false, true, true}}, null);
        SequenceLayout layout = new SequenceLayout(batch);
        assertEquals(2, layout.predictedTokens());
        assertArrayEquals(new double[]{0, 0.5, 0.5, 0}, layout.chunk(0, 4, 0, 1.0).lossWeights()[0], 0.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SequenceLayout(
                new Batch(new long[][]{{1, 2}}, new boolean[][]{{false, false}}, null)));
        assertTrue(e.getMessage().contains("no counted next-token targets"), e.getMessage());
    }

    @Test
    void malformedBatchesAreRejectedWithTheRowNamed() {
        IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class,
                () -> Batch.of(new long[][]{{1, 2, 3}, {1, 2}}));
        assertTrue(ragged.getMessage().contains("row 1"), ragged.getMessage());
        IllegalArgumentException starts = assertThrows(IllegalArgumentException.class,
                () -> new Batch(new long[][]{{1, 2, 3}}, null, new int[][]{{0, 2, 2}}));
        assertTrue(starts.getMessage().contains("row 0") && starts.getMessage().contains("ascending"),
                starts.getMessage());
    }
}
