"""staff_chat"""
