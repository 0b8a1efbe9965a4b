package quasiroll.sweep;

/** One cell of the sweep grid, i.e. one row of results.csv. */
public record CellKey(String model, String task, String sampler, double temperature, int k) {}
