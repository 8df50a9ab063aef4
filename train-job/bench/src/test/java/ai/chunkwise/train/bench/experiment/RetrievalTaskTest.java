package ai.chunkwise.train.bench.experiment;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The retrieval sequences: the key where the distance says, the question at the end, loss on the answer only. */
class RetrievalTaskTest {

    @Test
    void keyIsPlantedDistanceChunksBeforeTheQuestionAndOnlyTheAnswerIsATarget() {
        RetrievalTask task = new RetrievalTask(16, 4, 2);
        int[] text = new int[500];
        for (int i = 0; i < text.length; i++) {
            text[i] = i % 7 == 0 ? '|' : 'a' + i % 26;   // markers in the text must not survive
        }
        SplittableRandom random = new SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            int distance = 1 + trial % 3;
            RetrievalTask.Example e = task.example(text, distance, random);
            long[] t = e.tokens();
            assertEquals(64, t.length);
            int markers = 0;
            int keyAt = -1;
            for (int i = 0; i < t.length; i++) {
                if (t[i] == '|') {
                    markers++;
                    if (keyAt < 0) {
                        keyAt = i;
                    }
                }
            }
            assertEquals(2, markers, "one marker before the key, one as the question");
            assertEquals(61, t.length - 3, "question marker position");
            assertEquals('|', t[61]);
            // the whole key block (marker + 2 digits) lies inside chunk 3 - distance
            assertEquals(3 - distance, keyAt / 16);
            assertEquals(3 - distance, (keyAt + 2) / 16);
            for (int i = 0; i < 2; i++) {
                assertEquals('0' + e.key()[i], t[keyAt + 1 + i]);
                assertEquals('0' + e.key()[i], t[62 + i], "the answer is the key");
            }
            for (int i = 0; i < t.length; i++) {
                assertEquals(i >= 62, e.answerMask()[i], "target mask at " + i);
            }
            assertEquals(62, task.answerStart());
        }
    }

    @Test
    void rejectsDistancesOutsideTheSequence() {
        RetrievalTask task = new RetrievalTask(16, 4, 2);
        int[] text = new int[100];
        assertThrows(IllegalArgumentException.class, () -> task.example(text, 0, new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> task.example(text, 4, new SplittableRandom(1)));
    }
}
