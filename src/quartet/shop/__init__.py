"""The shop (seed 002) on MongoDB: products, orders with atomic stock, aggregation stats.

Writes to products need shop.products_write; any signed-in user orders. Placing an order takes
stock with one guarded update per item (`stock >= quantity`) inside a multi-document transaction
when the server has them (SecantusDB and replica sets do), or undoes the decrements already made
when it has not (`MONGODB_TRANSACTIONS`), so an order is all or nothing and stock never goes
below zero, however many orders race.
"""
