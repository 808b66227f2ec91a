"""Convene: facilitated multistakeholder convenings."""
