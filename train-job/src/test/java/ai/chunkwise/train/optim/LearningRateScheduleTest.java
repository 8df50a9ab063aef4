package ai.chunkwise.train.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LearningRateScheduleTest {

    @Test
    void warmsUpLinearlyThenFollowsACosineToTheMinimum() {
        // peak 1e-3, min 1e-4, 10 warm-up steps, 110 in all: the cosine spans steps 10..110
        LearningRateSchedule s = new LearningRateSchedule(1e-3, 1e-4, 10, 110);
        assertEquals(0.0, s.lrAt(0), 0.0);
        assertEquals(1e-4, s.lrAt(1), 1e-18);
        assertEquals(5e-4, s.lrAt(5), 1e-18);
        assertEquals(1e-3, s.lrAt(10), 1e-18);
        // a quarter of the way: 1e-4 + 9e-4 * (1 + cos(pi/4)) / 2
        assertEquals(1e-4 + 9e-4 * (1 + Math.sqrt(0.5)) / 2, s.lrAt(35), 1e-18);
        assertEquals(5.5e-4, s.lrAt(60), 1e-18);             // half way: the mean of peak and min
        assertEquals(1e-4 + 9e-4 * (1 - Math.sqrt(0.5)) / 2, s.lrAt(85), 1e-18);
        assertEquals(1e-4, s.lrAt(110), 1e-18);
        assertEquals(1e-4, s.lrAt(1000), 0.0);
        for (long step = 10; step < 110; step++) {
            assertEquals(true, s.lrAt(step + 1) <= s.lrAt(step), "non-increasing after warm-up at " + step);
        }
    }

    @Test
    void withoutWarmupStartsAtThePeak() {
        LearningRateSchedule s = new LearningRateSchedule(2.0, 0.0, 0, 4);
        assertEquals(2.0, s.lrAt(0), 0.0);
        assertEquals(1.0 + Math.sqrt(0.5), s.lrAt(1), 1e-15);   // 2 (1 + cos(pi/4)) / 2
        assertEquals(1.0, s.lrAt(2), 1e-15);
        assertEquals(0.0, s.lrAt(4), 0.0);
    }

    @Test
    void rejectsInconsistentSettings() {
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-4, 1e-3, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-3, 0, 20, 10));
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-3, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-3, 0, 0, 10).lrAt(-1));
    }
}
