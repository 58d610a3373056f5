"""The lecture's models: digit classifier and judge (more to come: gaussian, markov, hmm,
autoencoder, vae, gan)."""
