// Command basket is Basket's single binary: the broker (basket serve) and,
// as they arrive, the tools people use around it.
package main
