// Package corpus finds and reads the training and evaluation corpora
// (RAVDESS, TESS, nonverbal vocalizations, everyday noise): file lists,
// labels parsed from paths exactly as each corpus defines them, and the
// speaker of every clip, so evaluation can hold whole speakers out.
// No audio from the corpora is ever committed or embedded.
package corpus
